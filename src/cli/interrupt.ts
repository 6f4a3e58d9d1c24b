// One place decides what Ctrl-C means: a command may install its own handler (stop generating);
// otherwise the process cleans up temp files and exits 130.

type Handler = () => void;
let handler: Handler | null = null;

export function onInterrupt(h: Handler | null): void {
  handler = h;
}

export function currentInterruptHandler(): Handler | null {
  return handler;
}
