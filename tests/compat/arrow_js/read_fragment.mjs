// Usage: node read_fragment.mjs FILE
// Read the Arrow IPC file FILE with apache-arrow and print each row as one JSON
// object per line, keyed by column name: numbers, strings, booleans, null,
// int64 as exact integers, timestamps as integer microseconds, vectors as arrays.
import { readFileSync } from 'node:fs';
import { tableFromIPC, Type, TimeUnit } from 'apache-arrow';
import { toJson } from './rows_json.mjs';

const table = tableFromIPC(readFileSync(process.argv[2]));
const fields = table.schema.fields;

function cell(field, data, row) {
  if (!data.getValid(row)) return null;
  switch (field.type.typeId) {
    case Type.Timestamp: {
      if (field.type.unit !== TimeUnit.MICROSECOND) throw new Error(`unexpected unit in ${field.name}`);
      // get() returns fractional milliseconds; read the raw int64 instead.
      return BigInt.asIntN(64, BigInt(data.values[data.offset + row]));
    }
    case Type.FixedSizeList: {
      const size = field.type.listSize;
      const child = data.children[0];
      const start = child.offset + (data.offset + row) * size;
      return Array.from(child.values.subarray(start, start + size));
    }
    default:
      return null;  // handled through the vector below
  }
}

for (const batch of table.batches) {
  for (let row = 0; row < batch.numRows; ++row) {
    const out = {};
    fields.forEach((field, index) => {
      const vector = batch.getChildAt(index);
      const data = vector.data[0];
      const typeId = field.type.typeId;
      if (typeId === Type.Timestamp || typeId === Type.FixedSizeList) {
        out[field.name] = cell(field, data, row);
      } else {
        const value = vector.get(row);
        out[field.name] = value === undefined ? null : value;
      }
    });
    console.log(toJson(out));
  }
}
