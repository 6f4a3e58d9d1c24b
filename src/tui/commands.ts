// Slash commands of the chat TUI: parsing and suggestions (pure, tested without a terminal).

export interface SlashCommand {
  name: string;
  args?: string;
  help: string;
}

export const COMMANDS: SlashCommand[] = [
  { name: 'help', help: 'list the commands' },
  { name: 'clear', help: 'forget the conversation (keeps the system prompt)' },
  { name: 'system', args: 'TEXT', help: 'set the system prompt' },
  { name: 'regen', help: 'regenerate the last reply (instant: restores the state checkpoint)' },
  { name: 'undo', help: 'remove the last exchange (instant: restores the state checkpoint)' },
  { name: 'save', args: 'FILE', help: 'save the session (messages, settings, state)' },
  { name: 'load', args: 'FILE', help: 'resume a saved session' },
  { name: 'stats', help: 'speed of the last reply' },
  { name: 'ctx', help: 'context and checkpoint memory use' },
  { name: 'set', args: 'NAME VALUE', help: 'sampling: temp, top-k, top-p, min-p, repeat-penalty, repeat-last-n, presence-penalty, frequency-penalty, seed, n-predict' },
  { name: 'exit', help: 'quit' },
];

export type Parsed = { cmd: string; arg: string } | { error: string } | null;

export function parseSlash(line: string): Parsed {
  if (!line.startsWith('/')) return null;
  const m = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trim());
  const name = m?.[1] ?? '';
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) return { error: `unknown command /${name} (try /help)` };
  const arg = (m?.[2] ?? '').trim();
  if (c.args && !arg && c.name !== 'system') return { error: `usage: /${c.name} ${c.args}` };
  return { cmd: c.name, arg };
}

export function suggestions(line: string): SlashCommand[] {
  if (!line.startsWith('/') || /\s/.test(line)) return [];
  const p = line.slice(1);
  return COMMANDS.filter((c) => c.name.startsWith(p));
}

const SETTINGS: Record<string, { key: string; int?: boolean; min?: number }> = {
  temp: { key: 'temp', min: 0 },
  'top-k': { key: 'topK', int: true, min: 0 },
  'top-p': { key: 'topP', min: 0 },
  'min-p': { key: 'minP', min: 0 },
  'repeat-penalty': { key: 'repeatPenalty', min: 0 },
  'repeat-last-n': { key: 'repeatLastN', int: true, min: -1 },
  'presence-penalty': { key: 'presencePenalty' },
  'frequency-penalty': { key: 'frequencyPenalty' },
  seed: { key: 'seed', int: true, min: 0 },
  'n-predict': { key: 'nPredict', int: true, min: -1 },
};

/** `/set NAME VALUE` → [key, number] or an error message. */
export function parseSet(arg: string): [string, number] | string {
  const [name, value] = arg.split(/\s+/);
  const s = SETTINGS[name];
  if (!s) return `unknown setting '${name}' (${Object.keys(SETTINGS).join(', ')})`;
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v) || (s.int && !Number.isInteger(v)) || (s.min !== undefined && v < s.min)) return `bad value for ${name}: '${value ?? ''}'`;
  return [s.key, v];
}
