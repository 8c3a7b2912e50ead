/**
 * The gossip endpoints (`POST /api/gossip/exchange`, `POST /api/gossip/push`,
 * guarded by `NETWORK_TOKEN`; `GET /api/gossip/challenge`, open: it proves
 * a peer's URL before the token goes there) and the membership view
 * (`GET /api/peers`, `DELETE /api/peers/{peerId}`, guarded by `API_TOKEN`).
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  changeErrors,
  type HttpApp,
  json,
  rejectInvalid,
  requireTokenForChanges,
} from "../../shared/http/mod.ts";
import { quoteInput } from "../../shared/quote.ts";
import { ErrorResponseSchema } from "../../shared/contracts/advertisements.ts";
import {
  ChallengeRequestSchema,
  ChallengeResponseSchema,
  ExchangeRequestSchema,
  ExchangeResponseSchema,
  ForgetPeerResponseSchema,
  GossipPeerIdSchema,
  PeersResponseSchema,
  PushRequestSchema,
  PushResponseSchema,
} from "../../shared/contracts/gossip.ts";
import type { Gossiper } from "./gossiper.ts";

/** Path prefix of the endpoints other peers call (guarded by NETWORK_TOKEN, not API_TOKEN). */
export const GOSSIP_PATH_PREFIX = "/api/gossip/";

const gossipErrors = {
  400: json(ErrorResponseSchema, "Malformed message; nothing was taken."),
  401: json(ErrorResponseSchema, "NETWORK_TOKEN is set and the request carries no bearer token."),
  403: json(
    ErrorResponseSchema,
    "The bearer token is not NETWORK_TOKEN, or the sender's id is known here with another key.",
  ),
  412: json(ErrorResponseSchema, "The sender is this peer itself, or its clock is far ahead."),
};

const exchange = createRoute({
  method: "post",
  path: "/api/gossip/exchange",
  tags: ["Gossip"],
  summary: "Push-pull exchange: the sender's digest in, the records it lacks out",
  security: [{ network: [] }],
  request: {
    body: { required: true, content: { "application/json": { schema: ExchangeRequestSchema } } },
  },
  responses: {
    200: json(ExchangeResponseSchema, "Records the sender lacks, and the ones wanted back."),
    ...gossipErrors,
  },
});

const push = createRoute({
  method: "post",
  path: "/api/gossip/push",
  tags: ["Gossip"],
  summary: "Records the other side wanted after an exchange",
  security: [{ network: [] }],
  request: {
    body: { required: true, content: { "application/json": { schema: PushRequestSchema } } },
  },
  responses: { 200: json(PushResponseSchema, "What was taken."), ...gossipErrors },
});

const challenge = createRoute({
  method: "get",
  path: "/api/gossip/challenge",
  tags: ["Gossip"],
  summary: "Prove this peer answers at its URL: its id, URL and key, signed with the nonce",
  description:
    "Needs no token (the token is what a challenger must not send to an unproven URL). Answered by this peer alone, never forwarded; at most a few a second.",
  security: [],
  request: { query: ChallengeRequestSchema },
  responses: {
    200: json(ChallengeResponseSchema, "This peer's identity and the nonce, signed."),
    400: json(ErrorResponseSchema, "No nonce, or not 32 bytes in unpadded base64url."),
    429: json(ErrorResponseSchema, "Too many challenges a second; retry later."),
  },
});

const peers = createRoute({
  method: "get",
  path: "/api/peers",
  tags: ["Gossip"],
  summary: "The peers this node knows, and its own identity",
  responses: { 200: json(PeersResponseSchema, "Known peers.") },
});

const forget = createRoute({
  method: "delete",
  path: "/api/peers/{peerId}",
  tags: ["Gossip"],
  summary: "Forget a peer: its key, its record and its advertisements",
  security: [{ bearer: [] }],
  request: {
    params: z.object({
      peerId: GossipPeerIdSchema.openapi({ param: { name: "peerId", in: "path" } }),
    }),
  },
  responses: { 200: json(ForgetPeerResponseSchema, "Whether it was known."), ...changeErrors },
});

/** Adds the gossip endpoints; `networkToken` guards the ones other peers call. */
export function addGossipRoutes(
  app: HttpApp,
  gossiper: Gossiper,
  options: { networkToken?: string | undefined } = {},
): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "network", {
    type: "http",
    scheme: "bearer",
    description: "NETWORK_TOKEN, needed on the gossip endpoints when it is set.",
  });
  app.use(
    `${GOSSIP_PATH_PREFIX}*`,
    requireTokenForChanges(options.networkToken, { name: "NETWORK_TOKEN" }),
  );

  app.openapi(
    exchange,
    async (c) => c.json(await gossiper.exchange(c.req.valid("json")), 200),
    rejectInvalid("Cannot exchange gossip"),
  );

  app.openapi(
    push,
    async (c) => c.json(await gossiper.push(c.req.valid("json")), 200),
    rejectInvalid("Cannot take gossip records"),
  );

  // A GET: the NETWORK_TOKEN guard above (on POST, PUT, PATCH, DELETE) leaves it open.
  app.openapi(
    challenge,
    async (c) => {
      const answer = await gossiper.proofs.answer(c.req.valid("query"));
      c.header("cache-control", "no-store");
      return c.json(answer, 200);
    },
    rejectInvalid("Cannot answer the challenge"),
  );

  app.openapi(peers, (c) => c.json(gossiper.peers(), 200));

  app.openapi(
    forget,
    async (c) => {
      const { peerId } = c.req.valid("param");
      return c.json({ peerId, ...(await gossiper.forget(peerId)) }, 200);
    },
    rejectInvalid((c) => `Cannot forget peer ${quoteInput(c.req.param("peerId"))}`),
  );
}
