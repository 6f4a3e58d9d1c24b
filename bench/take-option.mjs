// Removes `--name value` from args and returns the value (or def): the option parsing of the bench scripts.
export function takeOption(args, name, def) {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}
