/** The parts of a socket {@link tickCorker} uses (node's `net.Socket` fits). */
export interface CorkLike {
  cork(): void;
  uncork(): void;
}

/**
 * Returns `corkForTick()`: the first call in a tick corks `socket` and uncorks it on the next
 * tick; later calls in the same tick do nothing. Called before each write, it makes everything
 * written in one tick (a head and its body, the pieces of one tunnel read) leave in one writev
 * instead of one syscall each.
 */
export function tickCorker(socket: CorkLike): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(uncork);
  };
}
