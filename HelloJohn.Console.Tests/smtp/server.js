'use strict';
// Starts an SMTP server for the notification tests on loopback:
//   node server.js <mail directory> <port> <user> <password> <cert.pem> <key.pem>
// It offers STARTTLS with the given certificate, requires AUTH (PLAIN or LOGIN, only after TLS), and writes each
// accepted message to <mail directory> as a .eml file. Prints "ready <port>" once it listens; stops on SIGTERM.
const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const [directory, port, user, password, certPath, keyPath] = process.argv.slice(2);
let count = 0;
const server = new SMTPServer({
  name: 'smtp.test',
  secure: false,
  key: fs.readFileSync(keyPath),
  cert: fs.readFileSync(certPath),
  authMethods: ['PLAIN', 'LOGIN'],
  allowInsecureAuth: false,
  logger: false,
  onAuth(auth, session, callback) {
    if (auth.username === user && auth.password === password) {
      return callback(null, { user: auth.username });
    }
    return callback(new Error('Invalid user name or password'));
  },
  onData(stream, session, callback) {
    const file = path.join(directory, `${Date.now()}-${++count}.eml`);
    const partial = file + '.partial';
    const out = fs.createWriteStream(partial);
    stream.pipe(out);
    out.on('finish', () => {
      fs.renameSync(partial, file);
      callback(null, 'Message accepted');
    });
  },
});
server.on('error', error => console.error(error.message));
server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
