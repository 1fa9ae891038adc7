import amqp from 'amqplib';
const url = process.argv[2];
const RT = 'amq.rabbitmq.reply-to';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (l, v) => console.log(l.padEnd(40), typeof v === 'string' ? v : JSON.stringify(v));
const c = await amqp.connect(url); c.on('error', () => {});
const other = await amqp.connect(url); other.on('error', () => {});
async function chan(conn = c) { const ch = await conn.createChannel(); ch.on('error', (e) => { ch.err = e.message; }); return ch; }
const cl = await chan();
const got = [];
const ok = await cl.consume(RT, (m) => got.push(m), { noAck: true });
// learn our reply address by sending to ourselves through a queue
const q = (await cl.assertQueue('', { exclusive: true })).queue;
cl.sendToQueue(q, Buffer.from('x'), { replyTo: RT });
await sleep(100);
const m = await cl.get(q, { noAck: true });
const addr = m.properties.replyTo;
say('addr', addr);
{ const ch = await chan(other); try { say('passive valid addr', await ch.checkQueue(addr)); } catch (e) { say('passive valid addr', e.message); } }
{ const ch = await chan(other); try { say('nonpassive valid addr', await ch.assertQueue(addr)); } catch (e) { say('nonpassive valid addr', e.message); } }
{ const ch = await chan(other); try { await ch.consume(addr, () => {}, { noAck: true }); say('consume valid addr', 'ok'); } catch (e) { say('consume valid addr', e.message); } }
{ const ch = await chan(other); try { await ch.bindQueue(RT, 'amq.direct', 'k'); say('bind RT', 'ok'); } catch (e) { say('bind RT', e.message); } }
{ const ch = await chan(other); try { say('delete RT', await ch.deleteQueue(RT)); } catch (e) { say('delete RT', e.message); } }
{ const ch = await chan(other); try { say('purge RT', await ch.purgeQueue(RT)); } catch (e) { say('purge RT', e.message); } }
// reply from a tx channel / confirm channel
{ const cc = await other.createConfirmChannel(); cc.publish('', addr, Buffer.from('confirmed-reply')); await cc.waitForConfirms(); say('confirm on reply', 'acked'); }
await sleep(100); say('got', got.map((g) => g.content.toString()));
// reply via exchange bound? publish with reply to bare RT from other (no consumer there)
// close the requester channel then reply with mandatory
await cl.close();
{ const cc = await other.createConfirmChannel(); let ret = null; cc.on('return', (r) => { ret = r.fields.replyText; }); cc.publish('', addr, Buffer.from('late'), { mandatory: true }); await cc.waitForConfirms(); await sleep(100); say('mandatory after close', ret); }
{ const ch = await chan(other); try { say('passive addr after close', await ch.checkQueue(addr)); } catch (e) { say('passive addr after close', e.message); } }
// consume RT with exclusive=true / a second channel of the same connection each can have one
{ const a = await chan(); const b = await chan(); await a.consume(RT, () => {}, { noAck: true }); await b.consume(RT, () => {}, { noAck: true }); say('two channels', 'ok'); }
// consume RT nowait? cancel then consume again
{ const a = await chan(); const r = await a.consume(RT, () => {}, { noAck: true }); await a.cancel(r.consumerTag); const r2 = await a.consume(RT, () => {}, { noAck: true }); say('re-consume after cancel', 'ok'); }
// qos / prefetch irrelevant. publish to RT via amq.direct with reply_to RT (no consumer) -> ?
{ const a = await chan(); a.publish('amq.direct', 'nothing', Buffer.from('x'), { replyTo: RT }); await sleep(150); say('replyTo RT via amq.direct w/o consumer', a.err ?? 'ok'); }
{ const a = await chan(); a.publish('nonexistent-x', 'nothing', Buffer.from('x'), { replyTo: RT }); await sleep(150); say('replyTo RT to missing exchange', a.err ?? 'ok'); }
{ const a = await chan(); a.publish('amq.direct', 'nothing', Buffer.from('x'), { replyTo: RT, userId: 'bob' }); await sleep(150); say('replyTo RT + bad user_id', a.err ?? 'ok'); }
await c.close(); await other.close();
