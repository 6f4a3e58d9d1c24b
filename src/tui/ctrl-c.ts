// What Ctrl-C means, decided in one place from the UI state.

export type Phase = 'loading' | 'generating' | 'prompt';
export type CtrlCAction = 'exit' | 'stop-generation' | 'arm' | 'exit-interrupted';

/** At the prompt the first press arms (a hint is shown) and a second within the window exits. */
export function onCtrlC(phase: Phase, armedAt: number | undefined, now: number, windowMs = 2000): CtrlCAction {
  if (phase === 'loading') return 'exit';
  if (phase === 'generating') return 'stop-generation';
  return armedAt !== undefined && now - armedAt <= windowMs ? 'exit-interrupted' : 'arm';
}
