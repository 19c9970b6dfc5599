// express 4, installed under the alias `express4` beside express 5 so the
// adapters are tested against both lines. Its API is typed as express's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
