/**
 * How an offending JSON value is shown in an error message: its JSON type and, for scalars, the
 * value itself (strings shortened), never a whole array or object.
 */

const MAX_STRING_SHOWN = 40;

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return `number ${value}`;
    case 'boolean':
      return `boolean ${value}`;
    case 'string':
      return value.length > MAX_STRING_SHOWN
        ? `string ${JSON.stringify(value.slice(0, MAX_STRING_SHOWN))}...`
        : `string ${JSON.stringify(value)}`;
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return typeof value;
  }
}
