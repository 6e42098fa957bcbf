// codem-isoboxer ships no types; the bench uses only parseBuffer.
declare module 'codem-isoboxer' {
  const ISOBoxer: { parseBuffer(buffer: ArrayBuffer): unknown };
  export default ISOBoxer;
}
