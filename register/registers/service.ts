/**
 * The registers: create, read, change and delete them in the store, and tell
 * the peer about every change that matters to it.
 *
 * @module
 */
import { type Clock, systemClock } from "../../shared/clock.ts";
import type {
  CreateRegisterRequest,
  UpdateRegisterRequest,
} from "../../shared/contracts/registers.ts";
import { AppError } from "../../shared/errors.ts";
import type { ListOptions, Register, RegisterChanges, RegisterStore } from "../store/mod.ts";

/** Who hears about register changes (the peer sync). */
export interface ChangeListener {
  /** `before` is undefined for a creation, `after` for a deletion; never throws. */
  notify(before: Register | undefined, after: Register | undefined): Promise<void>;
}

/** Options of {@link RegisterService}. */
export interface RegisterServiceOptions {
  /** Hears about every change. */
  listener: ChangeListener;
  /** The clock for created and updated times (default: the system clock). */
  clock?: Clock;
  /** Makes new ids (default: a random UUID without hyphens). */
  newId?: () => string;
}

/** A new register id: 32 lower-case hex characters. */
export function newRegisterId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** The register service's operations. */
export class RegisterService {
  readonly #store: RegisterStore;
  readonly #listener: ChangeListener;
  readonly #clock: Clock;
  readonly #newId: () => string;

  /** Creates the service over a store. */
  constructor(store: RegisterStore, options: RegisterServiceOptions) {
    this.#store = store;
    this.#listener = options.listener;
    this.#clock = options.clock ?? systemClock;
    this.#newId = options.newId ?? newRegisterId;
  }

  /** Creates a register and, when it is advertised, tells the peer. */
  async create(request: CreateRegisterRequest): Promise<Register> {
    const now = new Date(this.#clock.now()).toISOString();
    const register: Register = {
      id: this.#newId(),
      name: request.name,
      advertise: request.advertise,
      isPublic: request.isPublic,
      latestVersion: 0,
      latestDocketVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    await this.#store.insert(register);
    await this.#listener.notify(undefined, register);
    return register;
  }

  /** Registers sorted by id, optionally only those with a given `advertise`. */
  list(options: ListOptions = {}): Promise<Register[]> {
    return this.#store.list(options);
  }

  /** One register; `not_found` when there is none. */
  async get(id: string): Promise<Register> {
    return (await this.#store.get(id)) ?? notFound("Cannot read", id);
  }

  /** Changes a register and tells the peer what it needs to know. */
  async update(id: string, request: UpdateRegisterRequest): Promise<Register> {
    const changes: RegisterChanges = request;
    const now = new Date(this.#clock.now()).toISOString();
    const result = await this.#store.update(id, changes, now);
    if (!result) return notFound("Cannot change", id);
    await this.#listener.notify(result.before, result.after);
    return result.after;
  }

  /** Deletes a register and withdraws its advertisement. */
  async delete(id: string): Promise<Register> {
    const deleted = await this.#store.delete(id);
    if (!deleted) return notFound("Cannot delete", id);
    await this.#listener.notify(deleted, undefined);
    return deleted;
  }
}

function notFound(action: string, id: string): never {
  throw new AppError("not_found", `${action} register "${id}": no register has this id`);
}
