// A virtual host: its own exchanges, queues and bindings.
export class VHost {
  constructor(readonly name: string) {}
}
