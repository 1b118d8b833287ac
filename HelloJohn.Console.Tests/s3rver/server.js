'use strict';
// Starts s3rver for the storage tests on loopback: node server.js <directory> <port>.
// Prints "ready <port>" once it listens; stops on SIGTERM.
const S3rver = require('s3rver');
const objectController = require('s3rver/lib/controllers/object');

// s3rver 3.7.1 reads x-amz-copy-source with decodeURI, which keeps %2F encoded, while the AWS SDK for .NET 4 encodes
// the slash between bucket and key. S3 itself decodes the whole value; decode it the same way here (after the
// signature check, which saw the header as sent).
const putObjectCopy = objectController.putObjectCopy;
objectController.putObjectCopy = ctx => {
  ctx.headers['x-amz-copy-source'] = decodeURIComponent(ctx.headers['x-amz-copy-source']);
  return putObjectCopy(ctx);
};

const [directory, port] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });
server
  .run()
  .then(({ port: listening }) => console.log(`ready ${listening}`))
  .catch(error => {
    console.error(error.message);
    process.exit(1);
  });
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
