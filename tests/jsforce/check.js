// Third-party client check: jsforce, unchanged, against `sfsmoke sim`.
//
//   node check.js <healthy-url> <edition-essentials-url> <profile-no-api-url> <changing-url>
//
// Uses only the demo credentials (public on purpose; they open only the
// simulated org). Exits non-zero on the first mismatch.
'use strict';
const jsforce = require('jsforce');
const assert = require('node:assert/strict');

const USER = 'integration@acme.example';
const PASSWORD = 'demo-Passw0rd';
const TOKEN = 'DEMOtoken0000000000000000';
const CLIENT_ID =
  '3MVG9demo.sfsmoke.simulated.org.CONSUMER.KEY.public.on.purpose.0000000000000';
const CLIENT_SECRET =
  'DEMO0000SECRET0000PUBLIC0000ON0000PURPOSE00000000000000000000000';

const [healthyUrl, essentialsUrl, profileNoApiUrl, changingUrl] = process.argv.slice(2);

async function expectRejects(what, promise, code) {
  try {
    await promise;
  } catch (e) {
    const got = e.errorCode || e.name || '';
    const ok = got === code || String(e.message).startsWith(`${code}:`);
    assert.ok(ok, `${what}: expected ${code}, got ${got}: ${e.message}`);
    console.log(`ok - ${what}: ${code}`);
    return;
  }
  assert.fail(`${what}: expected ${code}, but it succeeded`);
}

async function main() {
  // 1. The seed's own code: SOAP login with password + token, then a query.
  {
    const conn = new jsforce.Connection({ loginUrl: healthyUrl });
    const info = await conn.login(USER, PASSWORD + TOKEN);
    assert.match(info.organizationId, /^00D/);
    assert.equal(conn.instanceUrl, healthyUrl);
    const res = await conn.query('SELECT Id, Name FROM Account');
    assert.equal(res.done, true);
    assert.equal(res.totalSize, 3);
    assert.deepEqual(
      res.records.map((r) => r.Name).sort(),
      ['Acme Corporation', 'Globex', 'Initech'],
    );
    assert.equal(res.records[0].attributes.type, 'Account');
    const opp = await conn.query(
      'SELECT Id, Name, StageName, Amount FROM Opportunity WHERE LastModifiedDate = TODAY',
    );
    assert.ok(opp.totalSize >= 1, 'opportunities modified today');
    console.log(`ok - healthy: SOAP login + query (${res.totalSize} accounts, ${opp.totalSize} opportunities today)`);
    const sid = conn.accessToken;
    await conn.logout();
    const after = new jsforce.Connection({ instanceUrl: healthyUrl, accessToken: sid });
    await expectRejects('healthy: query after logout()', after.query('SELECT Id FROM Account'), 'INVALID_SESSION_ID');
  }
  // 2. OAuth username-password flow through the Connected App.
  {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: healthyUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
    await conn.login(USER, PASSWORD + TOKEN);
    const res = await conn.query('SELECT Id FROM Opportunity LIMIT 1');
    assert.equal(res.totalSize, 1);
    const limits = conn.limitInfo && conn.limitInfo.apiUsage;
    assert.ok(limits && limits.used >= 1 && limits.limit === 15000, `limitInfo: ${JSON.stringify(conn.limitInfo)}`);
    console.log(`ok - healthy: OAuth password flow + query (api usage ${limits.used}/${limits.limit})`);
  }
  // 3. An org without the API: SOAP login is refused.
  {
    const conn = new jsforce.Connection({ loginUrl: essentialsUrl });
    await expectRejects(
      'edition-essentials: SOAP login',
      conn.login(USER, PASSWORD + TOKEN),
      'API_DISABLED_FOR_ORG',
    );
  }
  // 4. The seed's story: the OAuth login succeeds, the query throws.
  {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: profileNoApiUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
    await conn.login(USER, PASSWORD + TOKEN);
    await expectRejects(
      'profile-no-api: query after OAuth login',
      conn.query('SELECT Id, Name FROM Account'),
      'API_DISABLED_FOR_ORG',
    );
    const soap = new jsforce.Connection({ loginUrl: profileNoApiUrl });
    await expectRejects(
      'profile-no-api: SOAP login',
      soap.login(USER, PASSWORD + TOKEN),
      'API_CURRENTLY_DISABLED',
    );
  }
  // 5. A wrong password.
  {
    const conn = new jsforce.Connection({ loginUrl: healthyUrl });
    await expectRejects('healthy: wrong password', conn.login(USER, 'wrong'), 'INVALID_LOGIN');
  }
  // 6. "It worked yesterday": same session, the permission set that granted
  //    API Enabled is unassigned while the client runs.
  {
    const conn = new jsforce.Connection({ loginUrl: changingUrl });
    await conn.login(USER, PASSWORD + TOKEN);
    const before = await conn.query('SELECT Id, Name FROM Account');
    assert.equal(before.totalSize, 3);
    const r = await fetch(`${changingUrl}/__sfsmoke/scenario/permset-unassigned`, { method: 'POST' });
    assert.equal(r.status, 200);
    await expectRejects(
      'healthy -> permset-unassigned: the next query',
      conn.query('SELECT Id, Name FROM Account'),
      'API_DISABLED_FOR_ORG',
    );
  }
  // 7. A login URL written with a trailing '/' (Salesforce tolerates the
  //    doubled slash it produces), then what the sf CLI asks after a login:
  //    the identity, the User record, and describes.
  {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: `${healthyUrl}/`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
    const info = await conn.login(USER, PASSWORD + TOKEN);
    const id = await conn.identity();
    assert.equal(id.username, USER);
    assert.equal(id.user_id, info.id);
    assert.equal(id.organization_id, info.organizationId);
    assert.equal(typeof id.display_name, 'string');
    const user = await conn.sobject('User').retrieve(info.id);
    assert.equal(user.Username, USER);
    assert.equal(user.Id, info.id);
    const global = await conn.describeGlobal();
    assert.equal(global.encoding, 'UTF-8');
    assert.ok(global.sobjects.some((o) => o.name === 'Account'));
    const account = await conn.sobject('Account').describe();
    assert.equal(account.name, 'Account');
    assert.ok(account.fields.some((f) => f.name === 'Id' && f.type === 'id'));
    console.log(`ok - healthy: trailing-slash login URL, identity(), User retrieve, describes (${global.sobjects.length} objects)`);
  }
  console.log('jsforce check passed');
}

main().catch((e) => {
  console.error(`jsforce check FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
