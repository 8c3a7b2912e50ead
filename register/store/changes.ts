/**
 * Helpers every register store adapter shares: applying changes, and the
 * duplicate-id error.
 *
 * @module
 */
import { AppError } from "../../shared/errors.ts";
import { UPDATABLE_FIELDS } from "../../shared/contracts/registers.ts";
import type { Register, RegisterChanges } from "./types.ts";

/** Only the fields of `changes` that are set (a field set to undefined is no change). */
export function definedChanges(changes: RegisterChanges): RegisterChanges {
  const out: Record<string, unknown> = {};
  for (const field of UPDATABLE_FIELDS) {
    if (changes[field] !== undefined) out[field] = changes[field];
  }
  return out as RegisterChanges;
}

/** `register` with `changes` (fields set to undefined are ignored) and `updatedAt` applied. */
export function applyChanges(
  register: Register,
  changes: RegisterChanges,
  updatedAt: string,
): Register {
  return { ...register, ...definedChanges(changes), updatedAt };
}

/** The error for creating a register whose id is taken. */
export function alreadyExists(id: string): AppError {
  return new AppError(
    "already_exists",
    `Cannot create register "${id}": a register with this id already exists`,
  );
}
