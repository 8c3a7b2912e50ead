/**
 * The register endpoints: create, list, read, change, delete.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { RegisterIdSchema } from "../../shared/contracts/advertisements.ts";
import {
  CreateRegisterRequestSchema,
  DeleteRegisterResponseSchema,
  RegisterListSchema,
  RegisterSchema,
  UpdateRegisterRequestSchema,
} from "../../shared/contracts/registers.ts";
import {
  changeErrors,
  type HttpApp,
  json,
  notFoundError,
  rejectInvalid,
} from "../../shared/http/mod.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { RegisterService } from "./service.ts";

const IdParams = z.object({
  id: RegisterIdSchema.openapi({ param: { name: "id", in: "path" } }),
});

const missing = notFoundError("No register has this id.");

const create = createRoute({
  method: "post",
  path: "/api/registers",
  tags: ["Registers"],
  summary: "Create a register (and advertise it to the peer when `advertise` is true)",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: CreateRegisterRequestSchema } },
    },
  },
  responses: { 201: json(RegisterSchema, "The new register with its id."), ...changeErrors },
});

const list = createRoute({
  method: "get",
  path: "/api/registers",
  tags: ["Registers"],
  summary: "Every register, sorted by id",
  request: {
    query: z.object({
      advertise: z.enum(["true", "false"], { message: "must be true or false" }).optional()
        .openapi({ description: "Only registers whose `advertise` is this." }),
    }),
  },
  responses: {
    200: json(RegisterListSchema, "The registers."),
    400: changeErrors[400],
  },
});

const read = createRoute({
  method: "get",
  path: "/api/registers/{id}",
  tags: ["Registers"],
  summary: "One register",
  request: { params: IdParams },
  responses: { 200: json(RegisterSchema, "The register."), 400: changeErrors[400], ...missing },
});

const update = createRoute({
  method: "patch",
  path: "/api/registers/{id}",
  tags: ["Registers"],
  summary: "Change a register; the peer is told at once",
  security: [{ bearer: [] }],
  request: {
    params: IdParams,
    body: {
      required: true,
      content: { "application/json": { schema: UpdateRegisterRequestSchema } },
    },
  },
  responses: {
    200: json(RegisterSchema, "The register as changed."),
    ...changeErrors,
    ...missing,
  },
});

const remove = createRoute({
  method: "delete",
  path: "/api/registers/{id}",
  tags: ["Registers"],
  summary: "Delete a register; its advertisement is withdrawn at once",
  security: [{ bearer: [] }],
  request: { params: IdParams },
  responses: {
    200: json(DeleteRegisterResponseSchema, "The register as it was."),
    ...changeErrors,
    ...missing,
  },
});

/** Adds the register endpoints to an app. */
export function addRegisterRoutes(app: HttpApp, service: RegisterService): void {
  const idOf = (c: { req: { valid(target: "param"): { id: string } } }) =>
    c.req.valid("param").id.toLowerCase();

  app.openapi(
    create,
    async (c) => c.json(await service.create(c.req.valid("json")), 201),
    rejectInvalid("Cannot create register"),
  );

  app.openapi(
    list,
    async (c) => {
      const { advertise } = c.req.valid("query");
      const registers = await service.list(
        advertise === undefined ? {} : { advertise: advertise === "true" },
      );
      return c.json(registers, 200);
    },
    rejectInvalid("Cannot list registers"),
  );

  app.openapi(
    read,
    async (c) => c.json(await service.get(idOf(c)), 200),
    rejectInvalid((c) => `Cannot read register ${quoteInput(c.req.param("id"))}`),
  );

  app.openapi(
    update,
    async (c) => c.json(await service.update(idOf(c), c.req.valid("json")), 200),
    rejectInvalid((c) => `Cannot change register ${quoteInput(c.req.param("id"))}`),
  );

  app.openapi(
    remove,
    async (c) => c.json({ deleted: await service.delete(idOf(c)) }, 200),
    rejectInvalid((c) => `Cannot delete register ${quoteInput(c.req.param("id"))}`),
  );
}
