/**
 * What publishing may not do: replace the genesis blueprint (the network's
 * root, the hub's alone), or make a new version of a publication that is
 * active already (publishing is idempotent, as reconciliation is).
 */
import assert from "node:assert/strict";
import { GENESIS_BLUEPRINT_ID } from "../../hub/system_register/genesis.ts";
import { AppError } from "../../shared/errors.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";
import { blueprintDocument, startTestHub, Subscription, type TestHub } from "./hub_fixture.ts";

const BLUEPRINTS = "/api/system-register/blueprints";

function get(hub: TestHub, path: string): Promise<CallResult> {
  return callApp(hub.app, { method: "GET", path });
}

function publish(
  hub: TestHub,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  return callApp(hub.app, { method: "POST", path: BLUEPRINTS, body, headers });
}

async function registerState(hub: TestHub) {
  const { body } = await get(hub, "/api/system-register");
  return { version: body.currentVersion, entries: body.entryCount };
}

Deno.test("publishing register-creation-v1 is refused with 403 whatever the document, and the genesis stays as it was", async () => {
  await using hub = await startTestHub({ apiToken: "api-s3cret" });
  const auth = { authorization: "Bearer api-s3cret" };
  const genesis = await get(hub, `${BLUEPRINTS}/${GENESIS_BLUEPRINT_ID}`);
  assert.equal(genesis.status, 200);

  for (
    const document of [
      { id: GENESIS_BLUEPRINT_ID, title: "Hijacked", actions: [] },
      genesis.body.document,
    ]
  ) {
    const res = await publish(hub, { blueprintId: GENESIS_BLUEPRINT_ID, document }, auth);
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.error.code, "permission_denied");
    assert.match(
      res.body.error.message,
      /^Cannot publish blueprint "register-creation-v1": it is the system register's genesis, the network's root, seeded by the hub at creation; it cannot be published or replaced$/,
    );
  }
  await assert.rejects(
    hub.publish({
      blueprintId: GENESIS_BLUEPRINT_ID,
      document: blueprintDocument(GENESIS_BLUEPRINT_ID),
      publishedBy: "in-process",
    }),
    (error: unknown) => error instanceof AppError && error.code === "permission_denied",
    "refused in-process too",
  );
  assert.deepEqual(await registerState(hub), { version: 1, entries: 1 }, "nothing stored");
  assert.deepEqual((await get(hub, `${BLUEPRINTS}/${GENESIS_BLUEPRINT_ID}`)).body, genesis.body);
  const other = await publish(hub, { blueprintId: "register-creation-v2", document: {} }, auth);
  assert.equal(other.status, 201, "only the genesis id is reserved");
});

Deno.test("an identical re-publication answers 200 with the active entry, makes no version and notifies no one", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();
  const body = {
    blueprintId: "land-transfer",
    document: { title: "Land title transfer", actions: [{ id: 0, title: "Offer" }] },
    publishedBy: "alice",
    metadata: { category: "property", region: "north" },
  };

  const first = await publish(hub, body);
  assert.equal(first.status, 201);
  assert.equal(first.body.created, true);
  assert.equal(first.body.notification, "BLUEPRINT_PUBLISHED");

  const again = await publish(hub, {
    ...body,
    metadata: { region: "north", category: "property" }, // the same pairs, in another order
  });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(again.body, { ...first.body, created: false, notification: null });
  assert.deepEqual(await registerState(hub), { version: 2, entries: 2 }, "no new version");

  // Anything different is a new version: the document, the publisher, the metadata.
  const changes = [
    { ...body, document: { ...body.document, title: "Land title transfer v2" } },
    {
      ...body,
      document: { ...body.document, title: "Land title transfer v2" },
      publishedBy: "bob",
    },
    {
      ...body,
      document: { ...body.document, title: "Land title transfer v2" },
      publishedBy: "bob",
      metadata: { category: "property" },
    },
  ];
  for (const [n, change] of changes.entries()) {
    const res = await publish(hub, change);
    assert.equal(res.status, 201, `change ${n}`);
    assert.deepEqual(
      [res.body.version, res.body.created, res.body.notification],
      [3 + n, true, "BLUEPRINT_UPDATED"],
    );
  }
  assert.equal((await publish(hub, changes[2])).status, 200, "the last one, again");
  assert.equal((await publish(hub, { blueprintId: "marker", document: {} })).status, 201);

  await subscription.eventCount(5);
  assert.deepEqual(
    subscription.events.map((e) => [e.blueprintId, e.version]),
    [
      ["land-transfer", 2n],
      ["land-transfer", 3n],
      ["land-transfer", 4n],
      ["land-transfer", 5n],
      ["marker", 6n],
    ],
    "nothing notified for the repeats",
  );
  assert.deepEqual(await registerState(hub), { version: 6, entries: 6 });
});
