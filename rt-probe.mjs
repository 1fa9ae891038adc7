import amqp from 'amqplib';
const url = process.argv[2];
const RT = 'amq.rabbitmq.reply-to';
const c = await amqp.connect(url); c.on('error', () => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function chan(conn = c) { const ch = await conn.createChannel(); ch.on('error', (e) => { ch.err = e.message; }); return ch; }
const say = (l, v) => console.log(l.padEnd(40), typeof v === 'string' ? v : JSON.stringify(v));
// 1 consume noAck false
{ const ch = await chan(); try { await ch.consume(RT, () => {}, { noAck: false }); say('consume noAck=false', 'ok'); } catch (e) { say('consume noAck=false', e.message); } }
// 3 publish without consumer
{ const ch = await chan(); ch.sendToQueue('whatever', Buffer.from('x'), { replyTo: RT }); await sleep(200); say('publish replyTo w/o consumer', ch.err ?? 'ok'); }
// passive declare
{ const ch = await chan(); try { say('checkQueue RT', await ch.checkQueue(RT)); } catch (e) { say('checkQueue RT', e.message); } }
{ const ch = await chan(); try { say('checkQueue RT.xyz', await ch.checkQueue(RT + '.xyz')); } catch (e) { say('checkQueue RT.xyz', e.message); } }
{ const ch = await chan(); try { say('assertQueue RT (non-passive)', await ch.assertQueue(RT)); } catch (e) { say('assertQueue RT', e.message); } }
{ const ch = await chan(); try { say('get RT', await ch.get(RT)); } catch (e) { say('get RT', e.message); } }
// RPC
const cl = await chan();
let replies = [];
const ok = await cl.consume(RT, (m) => replies.push(m), { noAck: true });
say('consume ok tag', ok.consumerTag);
{ try { await cl.consume(RT, () => {}, { noAck: true }); say('second consume same ch', 'ok'); } catch (e) { say('second consume same ch', e.message); } }
const cl2 = cl; 
const srvConn = await amqp.connect(url); srvConn.on('error', () => {});
const srv = await chan(srvConn);
const q = (await srv.assertQueue('', { exclusive: true })).queue;
let req;
await srv.consume(q, (m) => { req = m; }, { noAck: true });
const ch2 = await chan(); // the client channel may have died from the second consume
const ch3 = await chan();
const ok3 = await ch3.consume(RT, (m) => replies.push(m), { noAck: true });
ch3.sendToQueue(q, Buffer.from('req'), { replyTo: RT, correlationId: 'c1' });
await sleep(200);
say('server saw replyTo', req.properties.replyTo);
say('replyTo length', req.properties.replyTo.length);
srv.sendToQueue(req.properties.replyTo, Buffer.from('resp'), { correlationId: 'c1' });
await sleep(200);
say('reply fields', replies.map((m) => ({ f: m.fields, p: m.properties.correlationId })));
// publish to the reply name via amq.direct
srv.publish('amq.direct', req.properties.replyTo, Buffer.from('via-direct'));
await sleep(200); say('replies after amq.direct publish', replies.length);
// mandatory to unknown target
{ const cc = await srvConn.createConfirmChannel(); cc.on('error', (e) => say('cc err', e.message)); let ret = null; cc.on('return', (m) => { ret = m.fields; });
  cc.publish('', RT + '.g1h2AA5yZXBseUAxMDAwMDAwMDI7bRo0AAAAAAFAXg==', Buffer.from('x'), { mandatory: true }); await cc.waitForConfirms().catch((e) => say('wfc', e.message)); await sleep(200); say('mandatory unknown target return', ret);
  cc.publish('', req.properties.replyTo.slice(0, -3) + 'abc', Buffer.from('x'), { mandatory: true }); await sleep(200); say('mandatory garbled', ret);
  cc.publish('', RT, Buffer.from('x'), { mandatory: true }); await sleep(200); say('mandatory to bare RT', ret);
}
// stale: cancel and reply
await ch3.cancel(ok3.consumerTag);
srv.sendToQueue(req.properties.replyTo, Buffer.from('after-cancel'));
await sleep(200); say('replies after cancel', replies.length);
ch3.sendToQueue(q, Buffer.from('req2'), { replyTo: RT });
await sleep(200); say('publish after cancel', ch3.err ?? 'ok');
// consume with a tag, exclusive etc
{ const ch = await chan(); const r = await ch.consume(RT, () => {}, { noAck: true, consumerTag: 'mytag', exclusive: true }); say('consume with tag', r); }
{ const ch = await chan(); try { await ch.consume(RT + '.abc', () => {}, { noAck: true }); say('consume RT.abc', 'ok'); } catch (e) { say('consume RT.abc', e.message); } }
// replyTo in other publishes of a channel with consumer but replyTo something else unchanged
{ const ch = await chan(); await ch.consume(RT, () => {}, { noAck: true }); ch.sendToQueue(q, Buffer.from('r3'), { replyTo: 'custom' }); await sleep(150); say('custom replyTo kept', req.properties.replyTo); }
await c.close().catch(() => {}); await srvConn.close();
