// Hostile input, differentially: every case of interop/differential/probe-hostile.mjs runs
// against an in-process Warren, and what Warren sends back (frames, close codes, FULL reply
// texts, class/method ids, whether it closes the socket, whether the connection still works)
// must equal what RabbitMQ 3.10.8 sent (interop/differential/rabbitmq-hostile.jsonl) -- except
// for the cases in ALLOWLIST below, Warren's deliberate differences, whose behaviour is asserted
// explicitly. Timing is not compared (RabbitMQ waits 3 s or 30 s before some closes; Warren may
// close sooner), except heartbeats and the handshake timeout, checked roughly.
//
// Meanwhile an ordinary amqplib client publishes and consumes on its own connection and must
// lose nothing, and afterwards fresh clients must still be served.
import { readFileSync } from 'node:fs';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { external, startBroker, uniqueName, type TestBroker } from './support/broker.js';

// ------------------------------------------------------------------------------- the probe
interface ProbeFrame { type: string; t: number; [field: string]: unknown }
interface ProbeResult {
  case: string;
  frames?: ProbeFrame[];
  socketClosed?: boolean;
  msToClose?: number | null;
  aliveAfter?: boolean;
  error?: string;
  ok?: boolean;
}
interface ProbeModule {
  CASES: { name: string; waitMs?: number }[];
  runCases(opts: { port: number; filter?: unknown; waitMs?: number; concurrency?: number }): Promise<ProbeResult[]>;
  freshClientCheck(opts: { port: number }): Promise<ProbeResult>;
}
// A computed specifier: the probe is plain JavaScript (node builtins only), imported untyped.
const PROBE_URL = new URL('../interop/differential/probe-hostile.mjs', import.meta.url).href;
const probe = (await import(PROBE_URL)) as ProbeModule;

/** Warren's handshake timeout in this file (RabbitMQ's is 10 s; the probe waits up to 12 s). */
const HANDSHAKE_TIMEOUT_MS = 1500;
/** How long a case waits for Warren to close the socket (cases with their own wait keep it). */
const WAIT_MS = 1500;

// ------------------------------------------------------------------------------- the reference
const readJsonl = (text: string): ProbeResult[] => text.trim().split('\n').map((l) => JSON.parse(l) as ProbeResult);
const reference = new Map<string, ProbeResult>();
// Cases 26-32 are newer than rabbitmq-hostile.jsonl; they were recorded from the same RabbitMQ
// 3.10.8 with the same probe (`node probe-hostile.mjs PORT 26- 27- 28- 29- 30- 31- 32-`, times and
// client replies left out). Once the jsonl is re-recorded, its lines take precedence.
const RECORDED_LATER = String.raw`
{"case":"26-content-header header payload 10 bytes","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":501,"replyText":"FRAME_ERROR - type 2, all octets = <<0,60,0,0,0,0,0,0,0,5>>: unknown_frame","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header header without property flags (12 bytes)","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header header weight=1","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead","classId":60,"methodId":40}],"socketClosed":true}
{"case":"26-content-header props content-type flag, no value","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props content-type longer than the frame","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props trailing bytes","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props headers table with unknown type Z","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props headers table length past the end","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props continuation bit set","frames":[],"socketClosed":false,"aliveAfter":true}
{"case":"26-content-header props last two flag bits set","frames":[],"socketClosed":false,"aliveAfter":true}
{"case":"26-content-header props malformed, body_size=0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":541,"replyText":"INTERNAL_ERROR","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header props malformed, publish to missing exchange","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no exchange 'nope' in vhost '/'","classId":60,"methodId":40}],"socketClosed":false,"aliveAfter":true}
{"case":"26-content-header on ch0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - type 2, all octets = <<0,60,0,0,0,0,0,0,0,0,0,5,0,0>>","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header 10 bytes on ch0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":501,"replyText":"FRAME_ERROR - type 2, all octets = <<0,60,0,0,0,0,0,0,0,5>>: unknown_frame","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-content-header 10 bytes without publish","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":501,"replyText":"FRAME_ERROR - type 2, all octets = <<0,60,0,0,0,0,0,0,0,5>>: unknown_frame","classId":0,"methodId":0}],"socketClosed":true}
{"case":"26-body on ch0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - type 3, all octets = <<\"hello\">>","classId":0,"methodId":0}],"socketClosed":true}
{"case":"27-basic.deliver from client, with content","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":503,"replyText":"COMMAND_INVALID - unimplemented method","classId":60,"methodId":60}],"socketClosed":true}
{"case":"27-basic.deliver from client, then a method","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead","classId":60,"methodId":60}],"socketClosed":true}
{"case":"27-basic.get-ok from client, header for class 50","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead","classId":60,"methodId":71}],"socketClosed":true}
{"case":"28-server channel.close, client sends body frame before close-ok","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'missing-q' in vhost '/'","classId":50,"methodId":10},{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected method frame, got non method frame instead","classId":0,"methodId":0}],"socketClosed":true}
{"case":"28-server channel.close, client sends header frame before close-ok","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'missing-q' in vhost '/'","classId":50,"methodId":10},{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected method frame, got non method frame instead","classId":0,"methodId":0}],"socketClosed":true}
{"case":"28-server channel.close, client sends publish + header + body + channel.open before close-ok","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'missing-q' in vhost '/'","classId":50,"methodId":10},{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - second 'channel.open' seen","classId":20,"methodId":10}],"socketClosed":true}
{"case":"29-before connection.open: frame type 9 on ch1","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - type 9, all octets = <<\"abcd\">>","classId":0,"methodId":0}],"socketClosed":true}
{"case":"29-before connection.open: frame type 9 on ch0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":501,"replyText":"FRAME_ERROR - type 9, all octets = <<\"abcd\">>: unknown_frame","classId":0,"methodId":0}],"socketClosed":true}
{"case":"29-before connection.open: heartbeat on ch1","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - type 8, all octets = <<>>","classId":0,"methodId":0}],"socketClosed":true}
{"case":"29-before connection.open: body on ch0","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - type 3, all octets = <<\"hello\">>","classId":0,"methodId":0}],"socketClosed":true}
{"case":"30-client channel.close then channel.open in the same write","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - second 'channel.open' seen","classId":20,"methodId":10}],"socketClosed":true}
{"case":"30-client channel.close then publish+header+body in the same write","frames":[{"ch":1,"type":"method","cls":20,"mth":41,"name":"channel.close-ok"}],"socketClosed":false,"aliveAfter":true}
{"case":"30-client channel.close then body frame in the same write","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":505,"replyText":"UNEXPECTED_FRAME - expected method frame, got non method frame instead","classId":0,"methodId":0}],"socketClosed":true}
{"case":"30-client channel.close, then basic.qos 300 ms later","frames":[{"ch":1,"type":"method","cls":20,"mth":41,"name":"channel.close-ok"},{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - expected 'channel.open'","classId":60,"methodId":10}],"socketClosed":true}
{"case":"31-long reply text, ascii","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq...","classId":50,"methodId":10}],"socketClosed":false,"aliveAfter":true}
{"case":"31-long reply text, 2-byte utf8","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé...","classId":50,"methodId":10}],"socketClosed":false,"aliveAfter":true}
{"case":"31-long reply text, 2-byte utf8 cut mid-character","frames":[{"ch":1,"type":"method","cls":20,"mth":40,"name":"channel.close","replyCode":404,"replyText":"NOT_FOUND - no queue 'xéééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé�...","classId":50,"methodId":10}],"socketClosed":false,"aliveAfter":true}
{"case":"31-long reply text in connection.close: exchange.declare of an unknown 239-byte type","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":503,"replyText":"COMMAND_INVALID - unknown exchange type 'xééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé...","classId":40,"methodId":10}],"socketClosed":true}
{"case":"31-long reply text in connection.close: connection.open of a 240-byte vhost","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":530,"replyText":"NOT_ALLOWED - vhost éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé...","classId":10,"methodId":40}],"socketClosed":true}
{"case":"32-connection.close after tune-ok, before connection.open","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state opening","classId":10,"methodId":50}],"socketClosed":true}
{"case":"32-connection.close before tune-ok","frames":[],"socketClosed":true}
{"case":"32-connection.close-ok before connection.open","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state opening","classId":10,"methodId":51}],"socketClosed":true}
{"case":"32-connection.close-ok while running","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":51}],"socketClosed":true}
{"case":"32-connection.blocked from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":60}],"socketClosed":true}
{"case":"32-connection.unblocked from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":61}],"socketClosed":true}
{"case":"32-connection.update-secret","frames":[{"ch":0,"type":"method","cls":10,"mth":71,"name":"connection.update-secret-ok"}],"socketClosed":false,"aliveAfter":true}
{"case":"32-connection.update-secret-ok from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":71}],"socketClosed":true}
{"case":"32-connection.start-ok while running","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":11}],"socketClosed":true}
{"case":"32-connection.secure-ok while running","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":21}],"socketClosed":true}
{"case":"32-connection.open twice","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":40}],"socketClosed":true}
{"case":"32-connection.start from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":504,"replyText":"CHANNEL_ERROR - unexpected method in connection state running","classId":10,"methodId":10}],"socketClosed":true}
{"case":"32-channel.flow active=false","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":540,"replyText":"NOT_IMPLEMENTED - active=false","classId":20,"methodId":20}],"socketClosed":true}
{"case":"32-channel.flow active=true","frames":[{"ch":1,"type":"method","cls":20,"mth":21,"name":"channel.flow-ok","argsHex":"01"}],"socketClosed":false,"aliveAfter":true}
{"case":"32-channel.flow-ok from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":503,"replyText":"COMMAND_INVALID - unimplemented method","classId":20,"methodId":21}],"socketClosed":true}
{"case":"32-channel.open-ok from the client","frames":[{"ch":0,"type":"method","cls":10,"mth":50,"name":"connection.close","replyCode":503,"replyText":"COMMAND_INVALID - unimplemented method","classId":20,"methodId":11}],"socketClosed":true}
`;
for (const r of readJsonl(RECORDED_LATER)) reference.set(r.case, r);
for (const r of readJsonl(readFileSync(new URL('../interop/differential/rabbitmq-hostile.jsonl', import.meta.url), 'utf8'))) {
  reference.set(r.case, r);
}

/** What is compared: every frame (less heartbeats and times), the socket outcome, liveness. */
interface Outcome { frames: Record<string, unknown>[]; socketClosed: boolean | undefined; aliveAfter?: boolean }
function outcome(r: ProbeResult): Outcome {
  const frames = (r.frames ?? []).filter((f) => f.type !== 'heartbeat').map(({ t: _t, ...f }) => {
    // RabbitMQ lists its mechanisms in no fixed order ("PLAIN AMQPLAIN" or "AMQPLAIN PLAIN").
    if (typeof f.mechanisms === 'string') f.mechanisms = f.mechanisms.split(' ').sort().join(' ');
    return f;
  });
  const o: Outcome = { frames, socketClosed: r.socketClosed };
  if (r.aliveAfter !== undefined) o.aliveAfter = r.aliveAfter;
  return o;
}

// Frame shorthands for the allowlist.
const connectionClose = (replyCode: number, replyText: string, classId = 0, methodId = 0) =>
  ({ ch: 0, type: 'method', cls: 10, mth: 50, name: 'connection.close', replyCode, replyText, classId, methodId });
const channelClose = (ch: number, replyCode: number, replyText: string, classId: number, methodId: number) =>
  ({ ch, type: 'method', cls: 20, mth: 40, name: 'channel.close', replyCode, replyText, classId, methodId });
const closed = (...frames: Record<string, unknown>[]): Outcome => ({ frames, socketClosed: true });

// ------------------------------------------------------------------------------- the allowlist
// Warren's deliberate differences from RabbitMQ 3.10.8. Each entry says why, and what Warren
// does instead (asserted exactly). The test also checks that each entry still differs from the
// reference, so the list cannot silently outlive its reason.
const unknownMethod = (c: number, m: number) => closed(connectionClose(540, `NOT_IMPLEMENTED - unknown method {${c},${m}}`, c, m));
const aboveChannelMax = (ch: number, max: number) => closed(connectionClose(504, `CHANNEL_ERROR - channel ${ch} is above the negotiated channel_max ${max}`));
const bodyTooLong = closed(connectionClose(501, 'FRAME_ERROR - content body exceeds the announced size 5', 60, 40));
const tooLarge = (size: string): Outcome => ({
  frames: [channelClose(1, 406, `PRECONDITION_FAILED - message size ${size} is larger than configured max size 134217728`, 60, 40)],
  socketClosed: false,
  aliveAfter: true,
});
const ourHeaderAndClose = closed({ type: 'protocol-header', hex: Buffer.from('AMQP\x00\x00\x09\x01', 'latin1').toString('hex') });
const closeOkThenClosed = closed({ ch: 0, type: 'method', cls: 10, mth: 51, name: 'connection.close-ok' });

const ALLOWLIST: Record<string, { why: string; warren: Outcome }> = {
  // (a) Unknown class/method ids: RabbitMQ's reader crashes (TCP reset, no frame); Warren says
  //     what happened in a connection.close.
  '05-unknown-class 99.10 ch1': { why: 'a: unknown method ids get 540, not a crash', warren: unknownMethod(99, 10) },
  '05-unknown-method 20.99 ch1': { why: 'a: unknown method ids get 540, not a crash', warren: unknownMethod(20, 99) },
  '05-unknown-method 60.99 ch1': { why: 'a: unknown method ids get 540, not a crash', warren: unknownMethod(60, 99) },
  '05-unknown-method 10.99 ch0': { why: 'a: unknown method ids get 540, not a crash', warren: unknownMethod(10, 99) },
  // (b) Channel numbers above the negotiated channel_max: RabbitMQ 3.10 accepts them (it only
  //     counts channels); the spec, and our issue, require refusing them.
  '15-channel-above-max ch3000': { why: 'b: channel above channel_max is 504', warren: aboveChannelMax(3000, 2047) },
  '15-channel-above-max ch65535': { why: 'b: channel above channel_max is 504', warren: aboveChannelMax(65535, 2047) },
  '15-channel-max+1 ch2048': { why: 'b: channel above channel_max is 504', warren: aboveChannelMax(2048, 2047) },
  '19-tune-ok channel_max=10 then open ch11': {
    why: 'b: channel above channel_max is 504',
    warren: closed({ ch: 0, type: 'method', cls: 10, mth: 41, name: 'connection.open-ok', argsHex: '00' }, ...aboveChannelMax(11, 10).frames),
  },
  // (c) A body longer than its header announced: RabbitMQ waits forever for a total it can no
  //     longer reach (and then calls the next frame unexpected); Warren closes with 501 at once.
  '12-body-longer-than-header 5 vs 10': { why: 'c: body longer than announced is 501', warren: bodyTooLong },
  '12-body-split 5 = 3 + 4': { why: 'c: body longer than announced is 501', warren: bodyTooLong },
  '12-body-longer-than-header 5 vs 10, then basic.get': { why: 'c: body longer than announced is 501', warren: bodyTooLong },
  '12-body-longer-than-header 5 = 3 + 4, then basic.get': { why: 'c: body longer than announced is 501', warren: bodyTooLong },
  // (d) A header announcing more than max_message_size: RabbitMQ waits for the whole body, then
  //     sends this channel.close; Warren sends it at the header and skips the body. (The full
  //     134217729-byte case matches: the probe stops sending the body once the channel is closed.)
  '22-header body_size=200MiB (header only)': { why: 'd: max message size refused at the header', warren: tooLarge('209715200') },
  '22-header body_size=2^63-1 (header only)': { why: 'd: max message size refused at the header', warren: tooLarge('9223372036854775807') },
  // (e) The AMQP 0-9 / 0-8 headers, which RabbitMQ still speaks: Warren only speaks 0-9-1, so it
  //     answers with its header and closes, as for any other unsupported header.
  '01-bad-protocol-header AMQP-1-1-0-9': { why: 'e: only 0-9-1 is spoken', warren: ourHeaderAndClose },
  '01-bad-protocol-header AMQP-1-1-9-1': { why: 'e: only 0-9-1 is spoken', warren: ourHeaderAndClose },
  // (f) After the client's connection.close RabbitMQ sends close-ok and leaves closing the socket
  //     to the client (30 s, then a reset); Warren closes it right after close-ok.
  '23-client connection.close with open channel': { why: 'f: socket closed after close-ok', warren: closeOkThenClosed },
  '23-client connection.close then more methods': { why: 'f: socket closed after close-ok', warren: closeOkThenClosed },
  // (g) Race: after the server's channel.close the client sends basic.qos, queue.declare,
  //     channel.open and a body frame in one write. RabbitMQ's reader checks the body frame
  //     (505) before its channel process gets to the earlier channel.open; Warren handles frames
  //     in order, so the channel.open is the first error: 504, exactly what RabbitMQ answers when
  //     no frame-level error follows (case 28-... publish + header + body + channel.open).
  '23-server channel.close, client sends more methods, then close-ok, then reopen': {
    why: 'g: frames handled strictly in order',
    warren: closed(
      channelClose(1, 404, "NOT_FOUND - no queue 'missing-q' in vhost '/'", 50, 10),
      connectionClose(504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10),
    ),
  },
  // Reply texts over 255 bytes are cut to 252 bytes and "..." as in RabbitMQ, but at a character
  // boundary: RabbitMQ cuts the bytes wherever they fall, which can leave invalid UTF-8.
  '31-long reply text, 2-byte utf8 cut mid-character': {
    why: 'long reply texts stay valid UTF-8',
    warren: {
      frames: [channelClose(1, 404, `NOT_FOUND - no queue 'x${'\u00e9'.repeat(114)}...`, 50, 10)],
      socketClosed: false,
      aliveAfter: true,
    },
  },
};
// Other timing differences (f), which the comparison does not see because both servers do close:
// fatal frame errors (02, 03, 24-second protocol header) and failed handshakes (17, 19, 24):
// RabbitMQ closes after 3 s, Warren at once; a missing close-ok (23-... never sends close-ok):
// RabbitMQ 30 s, Warren 3 s; 23-client connection.close, then client keeps socket open: RabbitMQ
// 30 s, Warren at once; 24-no start-ok: RabbitMQ 10 s, Warren HANDSHAKE_TIMEOUT_MS here.

// ------------------------------------------------------------------------------- the run
let b: TestBroker;
const results = new Map<string, ProbeResult>();
let fresh: ProbeResult;
let hostileMs = 0;
let connectionsAfter = -1;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

/** An ordinary client, busy on its own connection for as long as the hostile cases run. */
interface Bystander { published: number; received: string[]; errors: unknown[]; stop(): Promise<void> }
async function bystander(url: string): Promise<Bystander> {
  const conn: ChannelModel = await amqp.connect(url);
  const errors: unknown[] = [];
  conn.on('error', (e) => errors.push(e));
  const pub: ConfirmChannel = await conn.createConfirmChannel();
  const sub: Channel = await conn.createChannel();
  const q = uniqueName('bystander');
  await sub.assertQueue(q, { durable: false, autoDelete: true });
  await sub.prefetch(50);
  const received: string[] = [];
  await sub.consume(q, (m) => {
    if (!m) return;
    received.push(m.content.toString());
    sub.ack(m);
  });
  const state = { published: 0, running: true };
  const loop = (async () => {
    while (state.running) {
      for (let i = 0; i < 20; i++) pub.sendToQueue(q, Buffer.from(String(state.published++)));
      await pub.waitForConfirms();
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    get published() { return state.published; },
    received,
    errors,
    async stop() {
      state.running = false;
      await loop;
      const deadline = Date.now() + 5000;
      while (received.length < state.published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await conn.close();
    },
  };
}

let busy: Bystander;

// ------------------------------------------------------------------------------- the cases
describe.skipIf(external)('hostile input: Warren answers as RabbitMQ 3.10.8', () => {
  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    b = await startBroker({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
    busy = await bystander(b.url);
    const started = Date.now();
    const all = await probe.runCases({ port: b.port, waitMs: WAIT_MS, concurrency: 64 });
    hostileMs = Date.now() - started;
    for (const r of all) results.set(r.case, r);
    fresh = await probe.freshClientCheck({ port: b.port });
    await busy.stop();
    // Every probe socket is gone by now; Warren must have let go of all of them.
    const deadline = Date.now() + 2000;
    while (b.broker && b.broker.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    connectionsAfter = b.broker?.connections.size ?? 0;
  }, 50_000);

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await b?.stop();
  });

  it.each(probe.CASES.map((c) => c.name))('%s', (name) => {
    const got = results.get(name);
    expect(got, 'the case ran').toBeDefined();
    expect(got!.error, 'the probe completed its script').toBeUndefined();
    const allowed = ALLOWLIST[name];
    const ref = reference.get(name);
    if (allowed) {
      expect(outcome(got!), `allowlisted (${allowed.why})`).toEqual(allowed.warren);
      if (ref) expect(outcome(ref), 'the allowlist entry still differs from RabbitMQ').not.toEqual(allowed.warren);
      return;
    }
    expect(ref, 'a RabbitMQ reference exists for this case').toBeDefined();
    expect(outcome(got!)).toEqual(outcome(ref!));
  });

  it('every allowlist entry names a case', () => {
    const names = new Set(probe.CASES.map((c) => c.name));
    expect(Object.keys(ALLOWLIST).filter((n) => !names.has(n))).toEqual([]);
  });

  it.each([1, 2])('heartbeat=%i: a heartbeat about every heartbeat/2 s, silent client dropped after 2-3 intervals, no close frame', (hb) => {
    const r = results.get(`25-heartbeat=${hb}, client silent`)!;
    const beats = r.frames!.filter((f) => f.type === 'heartbeat').map((f) => f.t);
    const half = hb * 500;
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats[0]).toBeLessThanOrEqual(2 * half + 300);
    for (let i = 1; i < beats.length; i++) expect(Math.abs(beats[i]! - beats[i - 1]! - half)).toBeLessThanOrEqual(250);
    expect(r.frames!.filter((f) => f.type !== 'heartbeat')).toEqual([]);
    expect(r.socketClosed).toBe(true);
    expect(r.msToClose!).toBeGreaterThanOrEqual(2 * hb * 1000 - 300);
    expect(r.msToClose!).toBeLessThanOrEqual(3 * hb * 1000 + 500);
  });

  it('a client that never answers connection.start is dropped after the handshake timeout', () => {
    const r = results.get('24-no start-ok (wait 12 s after connection.start)')!;
    expect(r.socketClosed).toBe(true);
    expect(r.msToClose!).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    expect(r.msToClose!).toBeLessThanOrEqual(HANDSHAKE_TIMEOUT_MS + 1000);
  });

  it('closes sooner than RabbitMQ where RabbitMQ waits 30 s', () => {
    for (const name of [
      '23-server connection.close, client never sends close-ok (heartbeat 0, wait 35 s)',
      '23-client connection.close, then client keeps socket open (wait 35 s)',
    ]) {
      expect(results.get(name)!.msToClose!, name).toBeLessThanOrEqual(4000);
    }
  });

  it('no exception escaped, and the cases ran concurrently in well under a minute', () => {
    expect(uncaught).toEqual([]);
    expect(hostileMs).toBeLessThan(30_000);
  });

  it('the broker kept serving: a fresh client connects and declares a queue', async () => {
    expect(fresh.ok).toBe(true);
    const conn = await amqp.connect(b.url);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    expect(queue).toMatch(/^amq\.gen-/);
    await conn.close();
  });

  it('a client busy on its own connection meanwhile lost nothing', () => {
    expect(busy.errors).toEqual([]);
    expect(busy.published).toBeGreaterThan(100);
    expect(busy.received).toEqual(Array.from({ length: busy.published }, (_, i) => String(i)));
  });

  it('no connection was leaked', () => {
    expect(connectionsAfter).toBe(0);
  });
});
