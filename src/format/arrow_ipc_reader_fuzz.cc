// Fuzz target for ArrowIpcFileReader: any bytes must yield an error or valid
// batches, never a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "format/arrow_ipc_reader.h"
#include "format/arrow_ipc_writer.h"
#include "io/file_system.h"
#include "tessera/record_batch.h"

namespace {

using tessera::DataType;
using tessera::Field;
using tessera::RecordBatch;
using tessera::RecordBatchBuilder;
using tessera::Schema;
using tessera::Value;

// A small batch of every type; row `row` is null in every nullable column when row % 3 == 1.
RecordBatch SeedBatch(bool nullable, int64_t num_rows) {
  const Schema schema = Schema::Make({{"i32", DataType::Int32(), nullable},
                                      {"i64", DataType::Int64(), nullable},
                                      {"f32", DataType::Float32(), nullable},
                                      {"f64", DataType::Float64(), nullable},
                                      {"b", DataType::Bool(), nullable},
                                      {"s", DataType::Utf8(), nullable},
                                      {"ts", DataType::Timestamp(), nullable},
                                      {"v", DataType::Vector(3), nullable}})
                            .value();
  RecordBatchBuilder builder(schema);
  for (int64_t row = 0; row < num_rows; ++row) {
    std::vector<Value> values;
    if (nullable && row % 3 == 1) {
      values.assign(8, std::monostate{});
    } else {
      const float x = static_cast<float>(row);
      values = {row * 7,       row << 40,
                x / 2,         row * 0.25,
                row % 2 == 0,  std::string(static_cast<size_t>(row % 5), 'a' + row % 26),
                row * 1000000, std::vector<float>{x, x + 1, x + 2}};
    }
    builder.AppendRow(values).IgnoreError();
  }
  return builder.Finish().value();
}

}  // namespace

std::vector<std::string> TesseraFuzzSeeds() {
  const RecordBatch nulls = SeedBatch(true, 9);
  const RecordBatch plain = SeedBatch(false, 4);
  std::vector<std::string> seeds = {tessera::format::EncodeArrowIpcFile(nulls),
                                    tessera::format::EncodeArrowIpcFile(plain),
                                    tessera::format::EncodeArrowIpcFile(nulls.Slice(3, 5))};
  const std::vector<RecordBatch> batches = {nulls.Slice(0, 2), nulls.Slice(2, 0),
                                            nulls.Slice(5, 4)};
  seeds.push_back(tessera::format::EncodeArrowIpcFile(nulls.schema(), batches).value());
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file =
      tessera::io::MappedFileFromString(std::string(reinterpret_cast<const char*>(data), size));
  auto reader = tessera::format::ArrowIpcFileReader::Open(file);
  if (!reader.ok()) return 0;
  for (int index = 0; index < (*reader)->num_batches(); ++index) {
    auto batch = (*reader)->ReadBatch(index);
    if (!batch.ok()) continue;
    for (const tessera::Array& column : batch->columns()) {
      for (int64_t row = 0; row < batch->num_rows(); ++row) (void)column.GetValue(row);
    }
  }
  (void)(*reader)->ReadAll();
  (void)tessera::format::ArrowIpcFileToJson(**reader, 20);
  return 0;
}
