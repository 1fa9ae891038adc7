// Two connected in-memory Duplex streams: what one side writes, the other reads. Node 20 has no
// stream.duplexPair (22.6 does); this is all a Connection needs to run without TCP.
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex) => new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      other().push(chunk);
      cb();
    },
    final(cb) {
      other().push(null);
      cb();
    },
  });
  sides.push(make(() => sides[1]!), make(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}
