// Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): typed clients such as kubectl's send them for
// writes of built-in kinds; decoding gives the JSON object a JSON client would have sent.

export { decodeProtobufObject, PROTOBUF_MAGIC } from './decode.js';
export type { ExpectedKind } from './decode.js';
export { supportedKinds } from './schema.js';
export { encodeProtobufObject } from './encode.js';
