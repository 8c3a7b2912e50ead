/**
 * The TypeScript type of each method of a generated service descriptor, on
 * either side of a call: what a typed client calls (`client.ts`) and what a
 * service implementation provides (`handlers.ts`), picked by the method's
 * kind. Client-streaming methods are not supported: their type is `never`.
 *
 * @module
 */
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import type { BidiStreamingMethod, ServerStreamingMethod, UnaryMethod } from "./client.ts";
import type { BidiStreamingHandler, ServerStreamingHandler, UnaryHandler } from "./handlers.ts";

/** The type of a method with input `I` and output `O`, by side and by method kind. */
export interface MethodTypes<I extends DescMessage, O extends DescMessage> {
  /** What a typed client calls. */
  client: {
    unary: UnaryMethod<I, O>;
    server_streaming: ServerStreamingMethod<I, O>;
    bidi_streaming: BidiStreamingMethod<I, O>;
  };
  /** What a service implementation provides. */
  handler: {
    unary: UnaryHandler<I, O>;
    server_streaming: ServerStreamingHandler<I, O>;
    bidi_streaming: BidiStreamingHandler<I, O>;
  };
}

/** A side of a call: the client's or the implementation's. */
export type MethodSide = keyof MethodTypes<DescMessage, DescMessage>;

/** The `side` type of one method of a generated service descriptor (`never` for other kinds). */
export type MethodType<M, Side extends MethodSide> = M extends {
  methodKind: infer K;
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
} ? K extends keyof MethodTypes<I, O>[Side] ? MethodTypes<I, O>[Side][K] : never
  : never;

/** The `side` types of every method of service `S`, keyed by each method's local name. */
export type ServiceMethods<S extends DescService, Side extends MethodSide> = {
  [K in keyof S["method"]]: MethodType<S["method"][K], Side>;
};
