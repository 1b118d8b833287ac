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

// s3rver 3.7.1 answers ListMultipartUploads (GET /bucket?uploads) with NotImplemented and AbortMultipartUpload
// (DELETE /bucket/key?uploadId=) with MethodNotAllowed. Both are added here, as S3 documents them, over s3rver's own
// record of an upload: the folder <bucket>/._S3rver_uploads/<uploadId> holding the key, the metadata and the parts.
// They run after s3rver's signature check, and a part sent to an upload that no longer exists is refused, as on S3.
const fs = require('fs');
const path = require('path');
const router = require('s3rver/lib/routes');
const S3Error = require('s3rver/lib/models/error');
const uploadsOf = (ctx, bucket) => ctx.store.getResourcePath(bucket, undefined, 'uploads');
const escapeXml = text => String(text).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

function listUploads(ctx) {
  const bucket = ctx.params.bucket;
  const prefix = ctx.query.prefix || '';
  const folder = uploadsOf(ctx, bucket);
  const uploads = (fs.existsSync(folder) ? fs.readdirSync(folder) : [])
    .filter(id => fs.existsSync(path.join(folder, id, 'key')))
    .map(id => ({
      id,
      key: fs.readFileSync(path.join(folder, id, 'key'), 'utf8'),
      initiated: fs.statSync(path.join(folder, id, 'key')).mtime,
    }))
    .filter(u => u.key.startsWith(prefix))
    .sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key.localeCompare(b.key)));
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
    `<Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
    uploads
      .map(u => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${escapeXml(u.id)}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`)
      .join('') +
    '</ListMultipartUploadsResult>';
}

function uploadFolder(ctx) {
  const folder = path.join(uploadsOf(ctx, ctx.params.bucket), path.basename(String(ctx.query.uploadId)));
  if (!fs.existsSync(path.join(folder, 'key'))) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: ctx.query.uploadId });
  }
  return folder;
}

// s3rver writes a part without listening for errors on the file it writes: a part still arriving when its upload is
// aborted (the client gave up on a frozen server, which then resumes) would crash the whole server. Here the part is
// written into the upload's existing folder, and any failure answers that request alone.
const crypto = require('crypto');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const partPath = path.join(this.getResourcePath(bucket, undefined, 'uploads'), path.basename(String(uploadId)), String(Number(partNumber)));
  const md5 = crypto.createHash('md5');
  let size = 0;
  await new Promise((resolve, reject) => {
    const file = fs.createWriteStream(partPath);
    file.on('error', reject);
    file.on('finish', resolve);
    content.on('error', reject);
    content.on('aborted', () => reject(new Error('The client stopped sending the part.')));
    content.on('data', chunk => {
      md5.update(chunk);
      size += chunk.length;
    });
    content.pipe(file);
  });
  const digest = md5.digest('hex');
  await fs.promises.writeFile(`${partPath}.md5`, digest);
  return { size, md5: digest };
};

// Placed right before s3rver's own handlers of the same routes, after its authentication and bucket checks.
function insertBefore(method, routePath, handler) {
  router[method](routePath, handler);
  const added = router.stack.pop();
  const at = router.stack.findIndex(l => l.path === routePath && l.methods.includes(method.toUpperCase()));
  router.stack.splice(at, 0, added);
}
insertBefore('get', '/:bucket', (ctx, next) => (ctx.params.queryMethod === 'uploads' ? listUploads(ctx) : next()));
insertBefore('delete', '/:bucket/:key+', (ctx, next) => {
  if (ctx.params.queryMethod !== 'uploadId') return next();
  fs.rmSync(uploadFolder(ctx), { recursive: true, force: true });
  ctx.status = 204;
});
insertBefore('put', '/:bucket/:key+', (ctx, next) => {
  if (ctx.params.queryMethod === 'uploadId') uploadFolder(ctx);
  return next();
});

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
