// The Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html):
// RecordBatches cross to and from any Arrow-speaking program without copying buffers.
//
// A batch travels as a struct array (format "+s") whose children are its columns:
//   int32 "i", int64 "l", float32 "f", float64 "g", bool "b", utf8 "u",
//   timestamp "tsu:" (microseconds, no time zone),
//   vector[dim] "+w:<dim>" with one non-nullable child "item" of format "f".
// A field's ARROW_FLAG_NULLABLE mirrors Field::nullable.
#pragma once

#include <stdint.h>  // NOLINT(modernize-deprecated-headers): the C structs below are C.

#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"
#include "tessera/status.h"

// The two standard structures, verbatim from the Arrow specification. The guard
// is the canonical one so that other copies (nanoarrow, DuckDB, Arrow C++) coexist.
#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  // Array type description
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;

  // Release callback
  void (*release)(struct ArrowSchema*);
  // Opaque producer-specific data
  void* private_data;
};

struct ArrowArray {
  // Array data description
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;

  // Release callback
  void (*release)(struct ArrowArray*);
  // Opaque producer-specific data
  void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

#ifdef __cplusplus
}
#endif

namespace tessera {

/// Export `batch` as a struct array into `*out_array` and, when `out_schema` is
/// not null, its schema into `*out_schema`. Zero-copy: the exported buffers are
/// the batch's own; the structures keep them alive until their release callbacks
/// run, so `batch` may be destroyed at once. Each column's Array::offset() becomes
/// that child's ArrowArray offset. The caller owns the filled structures and must
/// call their release callbacks exactly once (or hand them to a consumer that does).
/// Thread-safe; the exported structures may be released from any thread.
/// Errors: kInvalidArgument if `out_array` is null. On error nothing is written.
Status ExportRecordBatch(const RecordBatch& batch, ArrowArray* out_array,
                         ArrowSchema* out_schema = nullptr);

/// Export `schema` as a struct type ("+s") into `*out`, which the caller then owns.
/// Errors: kInvalidArgument if `out` is null. On error nothing is written.
Status ExportSchema(const Schema& schema, ArrowSchema* out);

/// Import a struct array and its schema as a RecordBatch. Takes ownership of both
/// structures whatever the outcome: `*array` is moved out (its release member is
/// set to null, its callback runs once the last Buffer of the result is gone) and
/// `*schema` is released before returning. Zero-copy: every Buffer of the result
/// points into the producer's memory. The struct's top-level offset is applied to
/// every column.
/// Errors: kInvalidArgument on a null or already released structure, on
/// inconsistent buffers, children, lengths or offsets, or on a schema that
/// Schema::Make rejects (e.g. names starting with '_'); kNotSupported naming the
/// column and format for a type Tessera cannot hold, for dictionary-encoded
/// columns, for vectors with null elements and for a top-level struct with nulls.
Result<RecordBatch> ImportRecordBatch(ArrowArray* array, ArrowSchema* schema);

/// Import a struct array whose schema is already known (e.g. from
/// ImportSchema() of an ArrowArrayStream). Ownership and errors as above;
/// the column names come from `schema`.
Result<RecordBatch> ImportRecordBatch(ArrowArray* array, const Schema& schema);

/// Import a struct type ("+s") as a Schema and release `*schema` whatever the
/// outcome. A "tsu:<zone>" timestamp is accepted and its zone dropped (values
/// are microseconds since the epoch either way).
/// Errors: as for ImportRecordBatch().
Result<Schema> ImportSchema(ArrowSchema* schema);

}  // namespace tessera
