/**
 * grpc-js service definitions from protobuf-es v2 service descriptors: the
 * path of each method, whether it streams, and its (de)serializers, which are
 * protobuf-es `toBinary` and `fromBinary` of the method's message schemas
 * (the serializers also take messages already encoded).
 *
 * @module
 */
import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type Message,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";

/** The method's gRPC path: `/sorcha.peer.v1.Heartbeat/SendHeartbeat`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Encodes a message of `schema` with protobuf-es, without copying the bytes.
 * A message already encoded (a `Uint8Array`, as the server adapter writes its
 * responses: see `handlers.ts`) is taken as it is.
 */
export function serializer(schema: DescMessage): (message: Message | Uint8Array) => Buffer {
  return (message) => {
    const bytes = message instanceof Uint8Array ? message : toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * A decoder of one message type faster than protobuf-es's reflection, for
 * messages received by the thousand (see `createClient`'s `decoders`). It
 * must give what `fromBinary(schema, bytes)` gives (tests hold them equal).
 */
export interface MessageDecoder<T extends DescMessage = DescMessage> {
  /** The message type it decodes. */
  readonly schema: T;
  /** Decodes one message. */
  decode(bytes: Uint8Array): MessageShape<T>;
}

/**
 * Decodes a message of `schema` with protobuf-es, or with `decoder` when
 * given. The bytes are read as a plain `Uint8Array`, so `bytes` fields are
 * `Uint8Array`s (not `Buffer`s).
 */
export function deserializer(
  schema: DescMessage,
  decoder?: MessageDecoder,
): (bytes: Buffer) => Message {
  const decode = decoder?.schema.typeName === schema.typeName
    ? (bytes: Uint8Array) => decoder.decode(bytes)
    : (bytes: Uint8Array) => fromBinary(schema, bytes);
  return (bytes) => decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The grpc-js definition of one method. */
export function methodDefinition(method: DescMethod): MethodDefinition<Message, Message> {
  return {
    path: methodPath(method),
    requestStream: method.methodKind === "client_streaming" ||
      method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" ||
      method.methodKind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
    originalName: method.name,
  };
}

/**
 * The grpc-js definition of a service, keyed by each method's `localName`
 * (`sendHeartbeat`), the keys of its implementation.
 */
export function serviceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(
    service.methods.map((method) => [method.localName, methodDefinition(method)]),
  );
}
