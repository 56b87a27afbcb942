// Usage: node write_fragment.mjs FILE
// Write an Arrow IPC file with apache-arrow to FILE (two record batches covering
// int32, int64, float32, float64, bool, utf8, timestamp[us] and
// FixedSizeList<float32, 4>, with nulls), then print the rows it holds as JSON
// lines in the format of read_fragment.mjs.
import { writeFileSync } from 'node:fs';
import {
  Bool, Field, FixedSizeList, Float32, Float64, Int32, Int64, Table, TimestampMicrosecond, Utf8,
  makeData, makeVector, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import { toJson } from './rows_json.mjs';

function rows(seed, count) {
  const out = [];
  for (let row = 0; row < count; ++row) {
    const k = seed * 100 + row;
    const nul = (col) => (k + col) % 4 === 0;
    out.push({
      i32: nul(0) ? null : (k * 7919) % 100000 - 50000,
      i64: nul(1) ? null : BigInt(k) * 1234567890123n - 9007199254740993n,
      f32: nul(2) ? null : Math.fround(k / 3 - 10.1),
      f64: nul(3) ? null : k * 1.0000001e-3 - 7.5,
      b: nul(4) ? null : k % 3 === 0,
      s: nul(5) ? null : ['', 'plain', 'héllo', '雪', 'a "quoted" \\ line'][k % 5] + k,
      ts: nul(6) ? null : 1700000000000000n + BigInt(k) * 1000001n,
      v: nul(7) ? null : [0, 1, 2, 3].map((d) => Math.fround(k * 0.25 + d / 7)),
    });
  }
  return out;
}

function column(values, type) { return vectorFromArray(values, type); }

function timestamps(values) {
  const data = new BigInt64Array(values.length);
  const validity = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((value, row) => {
    if (value === null) {
      ++nullCount;
    } else {
      data[row] = value;
      validity[row >> 3] |= 1 << (row & 7);
    }
  });
  return makeVector(makeData({
    type: new TimestampMicrosecond(), length: values.length, nullCount, nullBitmap: validity, data,
  }));
}

function table(batchRows) {
  const get = (name) => batchRows.map((r) => r[name]);
  return new Table({
    i32: column(get('i32'), new Int32()),
    i64: column(get('i64'), new Int64()),
    f32: column(get('f32'), new Float32()),
    f64: column(get('f64'), new Float64()),
    b: column(get('b'), new Bool()),
    s: column(get('s'), new Utf8()),
    ts: timestamps(get('ts')),
    v: column(get('v'), new FixedSizeList(4, new Field('item', new Float32(), false))),
  });
}

const first = rows(1, 13);
const second = rows(2, 6);
const result = table(first).concat(table(second));
writeFileSync(process.argv[2], tableToIPC(result, 'file'));
for (const row of [...first, ...second]) console.log(toJson(row));
