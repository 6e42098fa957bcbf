// Node-only entry: the stream.Transform adapter, plus everything the core exports.
export * from './index.js';
export { ParserTransform } from './adapters/node.js';
