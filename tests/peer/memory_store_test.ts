import { ManualClock } from "../../shared/clock.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import { describeStoreContract } from "./store_contract.ts";

describeStoreContract("memory store", () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  return Promise.resolve({
    store,
    clock,
    [Symbol.asyncDispose]: () => store.close(),
  });
}, { manualClock: true });
