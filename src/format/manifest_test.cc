#include "format/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "format/file_frame_internal.h"
#include "format/manifest_generated.h"

namespace tessera::format {
namespace {

using Rng = std::mt19937_64;

// Return a random string of 0..max_len arbitrary bytes (NULs and invalid UTF-8 included).
std::string RandomBytes(Rng& rng, size_t max_len) {
  std::string out(rng() % (max_len + 1), '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::string RandomName(Rng& rng, std::string_view prefix) {
  return std::string(prefix) + std::to_string(rng() % 1000000) + RandomBytes(rng, 6);
}

DataType RandomType(Rng& rng) {
  switch (rng() % 8) {
    case 0:
      return DataType::Int32();
    case 1:
      return DataType::Int64();
    case 2:
      return DataType::Float32();
    case 3:
      return DataType::Float64();
    case 4:
      return DataType::Bool();
    case 5:
      return DataType::Utf8();
    case 6:
      return DataType::Timestamp();
    default:
      return DataType::Vector(1 + static_cast<int32_t>(rng() % 16));
  }
}

// Return a random statistics value of the Value alternative `type` maps to, or null.
Value RandomStat(Rng& rng, const DataType& type) {
  if (rng() % 5 == 0) return Value();
  switch (type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return Value(static_cast<int64_t>(rng()));
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return Value(std::ldexp(static_cast<double>(rng() % 100000), -7));
    case TypeId::kBool:
      return Value(rng() % 2 == 0);
    case TypeId::kUtf8:
      return Value(RandomBytes(rng, 12));
    case TypeId::kVector: {
      std::vector<float> values(type.dim);
      for (float& v : values) v = static_cast<float>(rng() % 1000) / 8.0f;
      return Value(std::move(values));
    }
  }
  return Value();
}

std::vector<RowIdRange> RandomCovered(Rng& rng, uint64_t next_row_id) {
  std::vector<RowIdRange> ranges(rng() % 4);
  for (RowIdRange& range : ranges) {
    range.start = next_row_id == 0 ? 0 : rng() % next_row_id;
    range.end =
        range.start + (next_row_id == range.start ? 0 : rng() % (next_row_id - range.start + 1));
  }
  return ranges;
}

// Return a valid manifest with every field populated (as far as `seed` chooses).
Manifest RandomManifest(uint64_t seed) {
  Rng rng(seed);
  Manifest manifest;
  manifest.version = 1 + rng() % 1000;

  std::vector<Field> fields;
  const int num_fields = 1 + static_cast<int>(rng() % 6);
  for (int idx = 0; idx < num_fields; ++idx) {
    fields.push_back(
        Field{"c" + std::to_string(idx) + RandomBytes(rng, 5), RandomType(rng), rng() % 2 == 0});
  }
  manifest.schema = Schema::Make(fields).value();

  // Fragments take increasing, disjoint row id ranges with random gaps (deleted or
  // compacted-away ids), sometimes several ranges per fragment.
  uint64_t next_row_id = rng() % 3 == 0 ? (uint64_t{1} << 40) + rng() % 1000 : rng() % 100;
  uint64_t next_fragment_id = rng() % 10;
  const int num_fragments = static_cast<int>(rng() % 8);
  for (int idx = 0; idx < num_fragments; ++idx) {
    FragmentMeta fragment;
    fragment.id = next_fragment_id;
    next_fragment_id += 1 + rng() % 3;
    fragment.path = "data/" + RandomName(rng, "f") + ".arrow";
    fragment.size_bytes = static_cast<int64_t>(rng() % (int64_t{1} << 40));
    const int num_ranges = static_cast<int>(rng() % 4);
    for (int range_idx = 0; range_idx < num_ranges; ++range_idx) {
      RowIdRange range;
      range.start = next_row_id + rng() % 50;
      range.end = range.start + (rng() % 4 == 0 ? rng() % (uint64_t{1} << 32) : rng() % 5000);
      next_row_id = range.end;
      fragment.num_rows += static_cast<int64_t>(range.end - range.start);
      fragment.row_ids.push_back(range);
    }
    for (int field_idx = 0; field_idx < num_fields; ++field_idx) {
      if (rng() % 3 == 0) continue;
      ColumnStats stats;
      stats.field_index = field_idx;
      stats.min = RandomStat(rng, fields[field_idx].type);
      stats.max = RandomStat(rng, fields[field_idx].type);
      stats.null_count =
          fragment.num_rows == 0 ? 0 : static_cast<int64_t>(rng() % (fragment.num_rows + 1));
      fragment.stats.push_back(std::move(stats));
    }
    manifest.fragments.push_back(std::move(fragment));
  }
  manifest.next_row_id = next_row_id + rng() % 100;
  manifest.next_fragment_id = next_fragment_id + rng() % 3;

  for (int idx = static_cast<int>(rng() % 4); idx > 0; --idx) {
    manifest.deletion_files.push_back(DeletionFileMeta{"deletions/" + RandomName(rng, "d") + ".del",
                                                       static_cast<int64_t>(rng() % 100000)});
  }
  for (int idx = static_cast<int>(rng() % 4); idx > 0; --idx) {
    IndexSegmentMeta segment;
    segment.index_name = RandomName(rng, "idx");
    segment.column = fields[rng() % fields.size()].name;
    segment.index_type = rng() % 2 == 0 ? "IVF_HNSW_SQ" : "IVF_PQ";
    segment.path = "indices/" + RandomName(rng, "s") + "/segment.idx";
    segment.params_json =
        rng() % 2 == 0 ? R"({"num_partitions": 256, "m": 16})" : RandomBytes(rng, 10);
    segment.num_rows = static_cast<int64_t>(rng() % 1000000);
    segment.covered = RandomCovered(rng, manifest.next_row_id);
    manifest.index_segments.push_back(std::move(segment));
  }
  for (int idx = static_cast<int>(rng() % 5); idx > 0; --idx) {
    manifest.stream_checkpoints[RandomBytes(rng, 8)] = static_cast<int64_t>(rng());
  }
  for (int idx = static_cast<int>(rng() % 5); idx > 0; --idx) {
    manifest.config[RandomBytes(rng, 8)] = RandomBytes(rng, 16);
  }
  for (int idx = static_cast<int>(rng() % (kMaxLineage + 1)); idx > 0; --idx) {
    manifest.lineage.push_back(RandomName(rng, "u"));
  }
  TransactionMeta& txn = manifest.transaction;
  txn.uuid = RandomName(rng, "u");
  txn.operation = rng() % 2 == 0 ? "add" : "compact";
  txn.base_version = manifest.version - 1;
  txn.timestamp_us = static_cast<int64_t>(rng() >> 1);
  txn.duration_us = static_cast<int64_t>(rng() % 10000000);
  txn.rows_added = static_cast<int64_t>(rng() % 100000);
  txn.rows_deleted = static_cast<int64_t>(rng() % 100000);
  txn.detail = rng() % 2 == 0 ? R"({"fragments_removed": 3})" : RandomBytes(rng, 20);
  return manifest;
}

Manifest MinimalManifest() {
  Manifest manifest;
  manifest.version = 1;
  manifest.schema = Schema::Parse("id:int64,vector:vector[4]").value();
  manifest.transaction.operation = "create";
  return manifest;
}

// Return the encoding with payload replaced by `payload` under a valid header and crc.
std::string Reframe(std::string_view payload, uint32_t version = 1) {
  return internal::FramePayload("TSMF", version, payload);
}

std::string_view PayloadOf(std::string_view bytes) {
  return bytes.substr(internal::kFrameHeaderBytes);
}

void ExpectCorruption(const std::string& bytes, std::string_view message_part) {
  Result<Manifest> decoded = DecodeManifest(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_TRUE(decoded.status().IsCorruption()) << decoded.status();
  EXPECT_NE(decoded.status().message().find(message_part), std::string::npos)
      << decoded.status() << " does not mention '" << message_part << "'";
}

TEST(ManifestCodecTest, RoundTripsMinimalManifest) {
  const Manifest manifest = MinimalManifest();
  Result<Manifest> decoded = DecodeManifest(EncodeManifest(manifest));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, manifest);
}

TEST(ManifestCodecTest, RoundTripsRandomManifests) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const Manifest manifest = RandomManifest(seed);
    const std::string bytes = EncodeManifest(manifest);
    Result<Manifest> decoded = DecodeManifest(bytes);
    ASSERT_TRUE(decoded.ok()) << "seed " << seed << ": " << decoded.status();
    ASSERT_EQ(*decoded, manifest) << "seed " << seed;
    ASSERT_EQ(EncodeManifest(*decoded), bytes) << "encoding is not deterministic, seed " << seed;
  }
}

TEST(ManifestCodecTest, DecodesFromUnalignedBuffers) {
  const std::string bytes = EncodeManifest(RandomManifest(3));
  for (size_t offset = 1; offset < 8; ++offset) {
    const std::string shifted = std::string(offset, 'x') + bytes;
    Result<Manifest> decoded = DecodeManifest(std::string_view(shifted).substr(offset));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, RandomManifest(3));
  }
}

TEST(ManifestCodecTest, EveryTruncationIsCorruption) {
  for (uint64_t seed : {1, 7}) {
    const std::string bytes = EncodeManifest(RandomManifest(seed));
    for (size_t len = 0; len < bytes.size(); ++len) {
      Result<Manifest> decoded = DecodeManifest(std::string_view(bytes).substr(0, len));
      ASSERT_TRUE(decoded.status().IsCorruption()) << len << ": " << decoded.status();
    }
  }
}

TEST(ManifestCodecTest, TrailingBytesAreCorruption) {
  const std::string bytes = EncodeManifest(RandomManifest(2));
  EXPECT_TRUE(DecodeManifest(bytes + '\0').status().IsCorruption());
}

TEST(ManifestCodecTest, EveryBitFlipIsDetected) {
  const std::string bytes = EncodeManifest(RandomManifest(11));
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] ^= static_cast<char>(1u << (bit % 8));
    const Status status = DecodeManifest(flipped).status();
    const bool in_version = bit / 8 >= 4 && bit / 8 < 8;
    if (in_version && bit != 32) {
      // Version 1 with one bit flipped is a newer version (except bit 0, giving 0).
      ASSERT_TRUE(status.IsNotSupported()) << bit << ": " << status;
    } else {
      ASSERT_TRUE(status.IsCorruption()) << bit << ": " << status;
    }
  }
}

TEST(ManifestCodecTest, RejectsWrongMagic) {
  std::string bytes = EncodeManifest(MinimalManifest());
  bytes[0] = 'X';
  ExpectCorruption(bytes, "magic");
  // A deletion file is not a manifest.
  bytes.replace(0, 4, "TSDL");
  ExpectCorruption(bytes, "magic");
}

TEST(ManifestCodecTest, FutureFormatVersionIsNotSupported) {
  const std::string bytes = EncodeManifest(MinimalManifest());
  const Status status = DecodeManifest(Reframe(PayloadOf(bytes), 2)).status();
  EXPECT_TRUE(status.IsNotSupported()) << status;
  EXPECT_NE(status.message().find("newer"), std::string::npos) << status;
  ExpectCorruption(Reframe(PayloadOf(bytes), 0), "version 0");
}

TEST(ManifestCodecTest, RejectsLengthMismatchAndBadChecksum) {
  std::string bytes = EncodeManifest(MinimalManifest());
  std::string longer = bytes;
  base::EncodeFixed64(longer.data() + 8, PayloadOf(bytes).size() + 1);
  ExpectCorruption(longer, "payload bytes");
  std::string bad_crc = bytes;
  bad_crc[16] ^= 1;
  ExpectCorruption(bad_crc, "checksum");
}

TEST(ManifestCodecTest, RandomPayloadsWithValidChecksumNeverCrash) {
  Rng rng(77);
  const std::string valid = std::string(PayloadOf(EncodeManifest(RandomManifest(5))));
  for (int iter = 0; iter < 20000; ++iter) {
    std::string payload;
    if (iter % 2 == 0) {
      payload = RandomBytes(rng, 300);
    } else {
      payload = valid;
      for (int flips = 1 + static_cast<int>(rng() % 8); flips > 0; --flips) {
        payload[rng() % payload.size()] = static_cast<char>(rng());
      }
    }
    Result<Manifest> decoded = DecodeManifest(Reframe(payload));
    if (decoded.ok()) {
      // Whatever decodes must re-encode to something that decodes the same.
      Result<Manifest> again = DecodeManifest(EncodeManifest(*decoded));
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(EncodeManifest(*again), EncodeManifest(*decoded));
      (void)ManifestToJson(*decoded);
    } else {
      ASSERT_TRUE(decoded.status().IsCorruption()) << decoded.status();
    }
  }
}

// Semantic invariants checked on a manifest whose framing and flatbuffer are well formed.
TEST(ManifestCodecTest, RejectsSemanticallyInvalidManifests) {
  const Manifest base = RandomManifest(21);
  ASSERT_GE(base.fragments.size(), 2u);
  ASSERT_FALSE(base.fragments[0].row_ids.empty());
  auto expect = [&](std::string_view message_part, const std::function<void(Manifest&)>& edit) {
    Manifest manifest = base;
    edit(manifest);
    SCOPED_TRACE(message_part);
    ExpectCorruption(EncodeManifest(manifest), message_part);
  };
  expect("start > end", [](Manifest& m) {
    std::swap(m.fragments[0].row_ids[0].start, m.fragments[0].row_ids[0].end);
  });
  expect("next_row_id",
         [](Manifest& m) { m.next_row_id = m.fragments.back().row_ids.back().end - 1; });
  expect("next_fragment_id", [](Manifest& m) { m.next_fragment_id = m.fragments.back().id; });
  expect("two fragments have id", [](Manifest& m) { m.fragments[1].id = m.fragments[0].id; });
  expect("in fragment", [](Manifest& m) {
    m.fragments[1].row_ids = m.fragments[0].row_ids;
    m.fragments[1].num_rows = m.fragments[0].num_rows;
  });
  expect("more than", [](Manifest& m) { m.fragments[0].num_rows -= 1; });
  expect("fewer than", [](Manifest& m) { m.fragments[0].num_rows += 1; });
  expect("negative", [](Manifest& m) { m.fragments[0].size_bytes = -1; });
  expect("path is empty", [](Manifest& m) { m.fragments[0].path.clear(); });
  expect("field index", [](Manifest& m) {
    m.fragments[0].stats.push_back(ColumnStats{m.schema.num_fields(), Value(), Value(), 0});
  });
  expect("field index", [](Manifest& m) {
    m.fragments[0].stats.push_back(ColumnStats{-1, Value(), Value(), 0});
  });
  expect("two statistics", [](Manifest& m) {
    m.fragments[0].stats.clear();
    m.fragments[0].stats.push_back(ColumnStats{0, Value(), Value(), 0});
    m.fragments[0].stats.push_back(ColumnStats{0, Value(), Value(), 0});
  });
  expect("do not match its type", [](Manifest& m) {
    m.fragments[0].stats = {ColumnStats{0, Value(), Value(std::string("x")), 0}};
    if (m.schema.field(0).type.id == TypeId::kUtf8) m.fragments[0].stats[0].max = Value(true);
  });
  expect("null count", [](Manifest& m) {
    m.fragments[0].stats = {ColumnStats{0, Value(), Value(), m.fragments[0].num_rows + 1}};
  });
  expect("deletion file 0 path", [](Manifest& m) { m.deletion_files = {DeletionFileMeta{"", 1}}; });
  expect("negative num_rows", [](Manifest& m) {
    m.deletion_files = {DeletionFileMeta{"deletions/a.del", -1}};
  });
  IndexSegmentMeta segment{"idx", "c0", "IVF_PQ", "indices/a/s.idx", "{}", 10, {RowIdRange{0, 1}}};
  segment.column = base.schema.field(0).name;
  expect("not in the schema", [&](Manifest& m) {
    m.index_segments = {segment};
    m.index_segments[0].column = "nope";
  });
  expect("index segment 0 type is empty", [&](Manifest& m) {
    m.index_segments = {segment};
    m.index_segments[0].index_type.clear();
  });
  expect("start > end", [&](Manifest& m) {
    m.index_segments = {segment};
    m.index_segments[0].covered = {RowIdRange{2, 1}};
  });
  expect("next_row_id", [&](Manifest& m) {
    m.index_segments = {segment};
    m.index_segments[0].covered = {RowIdRange{0, m.next_row_id + 1}};
  });
  expect("negative duration", [](Manifest& m) { m.transaction.duration_us = -5; });
  expect("no columns", [](Manifest& m) { m.schema = Schema(); });
}

// A manifest flatbuffer built by hand, for invariants that EncodeManifest cannot violate.
struct RawField {
  const char* name;  // nullptr: the name is absent
  fb::TypeId type;
  int32_t dim;
};
struct RawManifest {
  std::vector<RawField> fields = {{"id", fb::TypeId::Int64, 0}, {"v", fb::TypeId::Vector, 4}};
  bool with_schema = true;
  bool with_transaction = true;
  bool with_operation = true;
  std::vector<const char*> config_keys;
  std::vector<const char*> checkpoint_keys;
  // Statistics of field 0 in one fragment: the min's union type and whether it has data.
  fb::StatValue min_type = fb::StatValue::NONE;
  bool min_data = false;
};

std::string BuildRaw(const RawManifest& raw) {
  using StringOffset = flatbuffers::Offset<flatbuffers::String>;
  flatbuffers::FlatBufferBuilder fbb;
  flatbuffers::Offset<fb::Schema> schema;
  if (raw.with_schema) {
    std::vector<flatbuffers::Offset<fb::Field>> fields;
    for (const RawField& field : raw.fields) {
      const StringOffset name =
          field.name != nullptr ? fbb.CreateString(field.name) : StringOffset();
      fields.push_back(fb::CreateField(fbb, name, field.type, field.dim, true));
    }
    schema = fb::CreateSchema(fbb, fbb.CreateVector(fields));
  }
  const auto min =
      raw.min_data ? fb::CreateInt64Value(fbb, 5).Union() : flatbuffers::Offset<void>();
  const auto stats =
      fbb.CreateVector(std::vector{fb::CreateColumnStats(fbb, 0, raw.min_type, min)});
  const auto path = fbb.CreateString("data/a.arrow");
  const auto fragments =
      fbb.CreateVector(std::vector{fb::CreateFragment(fbb, 0, path, 0, 0, 0, stats)});
  std::vector<flatbuffers::Offset<fb::ConfigEntry>> config;
  for (const char* key : raw.config_keys) {
    const StringOffset key_offset = fbb.CreateString(key);
    const StringOffset value_offset = fbb.CreateString("value");
    config.push_back(fb::CreateConfigEntry(fbb, key_offset, value_offset));
  }
  const auto config_vector = fbb.CreateVector(config);
  std::vector<flatbuffers::Offset<fb::StreamCheckpoint>> checkpoints;
  for (const char* key : raw.checkpoint_keys) {
    checkpoints.push_back(fb::CreateStreamCheckpoint(fbb, fbb.CreateString(key), 1));
  }
  const auto checkpoints_vector = fbb.CreateVector(checkpoints);
  flatbuffers::Offset<fb::Transaction> txn;
  if (raw.with_transaction) {
    const StringOffset operation = raw.with_operation ? fbb.CreateString("add") : StringOffset();
    const StringOffset uuid = fbb.CreateString("u");
    const StringOffset detail = fbb.CreateString("");
    txn = fb::CreateTransaction(fbb, uuid, operation, 0, 0, 0, 0, 0, detail);
  }
  fbb.Finish(fb::CreateManifest(fbb, 1, schema, fragments, 0, 0, 0, 1, checkpoints_vector,
                                config_vector, txn));
  return Reframe(
      std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
}

TEST(ManifestCodecTest, RejectsMalformedFlatbufferContent) {
  auto expect = [](std::string_view message_part, const std::function<void(RawManifest&)>& edit) {
    RawManifest raw;
    edit(raw);
    SCOPED_TRACE(message_part);
    ExpectCorruption(BuildRaw(raw), message_part);
  };
  // The unedited hand-built manifest is valid, with or without statistics values.
  ASSERT_TRUE(DecodeManifest(BuildRaw(RawManifest())).ok());
  RawManifest with_min;
  with_min.min_type = fb::StatValue::Int64Value;
  with_min.min_data = true;
  ASSERT_TRUE(DecodeManifest(BuildRaw(with_min)).ok());

  expect("duplicate column name", [](RawManifest& m) { m.fields[1].name = m.fields[0].name; });
  expect("empty column name", [](RawManifest& m) { m.fields[1].name = ""; });
  expect("schema field 1 name is missing", [](RawManifest& m) { m.fields[1].name = nullptr; });
  expect("unknown type id", [](RawManifest& m) { m.fields[0].type = static_cast<fb::TypeId>(42); });
  expect("has dim 0", [](RawManifest& m) { m.fields[1].dim = 0; });
  expect("has dim -3", [](RawManifest& m) { m.fields[1].dim = -3; });
  expect("has dim 2", [](RawManifest& m) { m.fields[0].dim = 2; });
  expect("no columns", [](RawManifest& m) { m.fields.clear(); });
  expect("schema is missing", [](RawManifest& m) { m.with_schema = false; });
  expect("transaction is missing", [](RawManifest& m) { m.with_transaction = false; });
  expect("transaction operation is missing", [](RawManifest& m) { m.with_operation = false; });
  expect("not sorted and unique", [](RawManifest& m) { m.config_keys = {"b", "a"}; });
  expect("not sorted and unique", [](RawManifest& m) { m.checkpoint_keys = {"a", "a"}; });
  expect("has no data", [](RawManifest& m) { m.min_type = fb::StatValue::Int64Value; });
  expect("data but no type", [](RawManifest& m) { m.min_data = true; });
  expect("unknown value type", [](RawManifest& m) {
    m.min_type = static_cast<fb::StatValue>(77);
    m.min_data = true;
  });
}

TEST(ManifestCodecTest, JsonRendersEveryField) {
  Manifest manifest = RandomManifest(4);
  manifest.schema = Schema::Parse("id:int64,name:utf8,v:vector[2]").value();
  FragmentMeta fragment{7, "data/x.arrow", 3, 1234, {RowIdRange{10, 12}, RowIdRange{20, 21}}, {}};
  fragment.stats = {ColumnStats{0, Value(int64_t{-4}), Value(int64_t{9}), 1},
                    ColumnStats{1, Value(std::string("a\xff")), Value(), 2},
                    ColumnStats{2, Value(std::vector<float>{1.5f, 2}), Value(), 0}};
  manifest.fragments = {fragment};
  manifest.index_segments = {IndexSegmentMeta{
      "v_idx", "v", "IVF_HNSW_SQ", "indices/a/s.idx", R"({"m": 16})", 3, {RowIdRange{0, 21}}}};
  manifest.stream_checkpoints = {{"kafka:0", 17}, {"kafka:1", -3}};
  manifest.config = {{"metric", "l2"}};
  manifest.transaction = {.uuid = "uuid-1",
                          .operation = "optimize",
                          .base_version = 6,
                          .timestamp_us = 1700000000000000,
                          .duration_us = 2500000,
                          .rows_added = 10,
                          .rows_deleted = 4,
                          .detail = R"({"tail_rows": 5})"};
  const nlohmann::json json = nlohmann::json::parse(ManifestToJson(manifest));
  EXPECT_EQ(json["version"], manifest.version);
  EXPECT_EQ(json["schema"][2]["type"], "vector[2]");
  EXPECT_EQ(json["next_row_id"], manifest.next_row_id);
  EXPECT_EQ(json["next_fragment_id"], manifest.next_fragment_id);
  const auto& frag = json["fragments"][0];
  EXPECT_EQ(frag["id"], 7);
  EXPECT_EQ(frag["path"], "data/x.arrow");
  EXPECT_EQ(frag["num_rows"], 3);
  EXPECT_EQ(frag["size_bytes"], 1234);
  EXPECT_EQ(frag["row_ids"], nlohmann::json::parse("[[10,12],[20,21]]"));
  EXPECT_EQ(frag["stats"][0]["field"], "id");
  EXPECT_EQ(frag["stats"][0]["min"], -4);
  EXPECT_EQ(frag["stats"][0]["max"], 9);
  EXPECT_EQ(frag["stats"][0]["null_count"], 1);
  EXPECT_EQ(frag["stats"][1]["min"], "a\xEF\xBF\xBD");  // invalid UTF-8 replaced, not thrown
  EXPECT_TRUE(frag["stats"][1]["max"].is_null());
  EXPECT_EQ(frag["stats"][2]["min"], nlohmann::json::parse("[1.5,2.0]"));
  EXPECT_EQ(json["deletion_files"].size(), manifest.deletion_files.size());
  EXPECT_EQ(json["index_segments"][0]["params"]["m"], 16);
  EXPECT_EQ(json["index_segments"][0]["covered"], nlohmann::json::parse("[[0,21]]"));
  EXPECT_EQ(json["stream_checkpoints"], nlohmann::json::parse(R"({"kafka:0": 17, "kafka:1": -3})"));
  EXPECT_EQ(json["config"], nlohmann::json::parse(R"({"metric": "l2"})"));
  const auto& txn = json["transaction"];
  EXPECT_EQ(txn["uuid"], manifest.transaction.uuid);
  EXPECT_EQ(txn["operation"], manifest.transaction.operation);
  EXPECT_EQ(txn["base_version"], manifest.transaction.base_version);
  EXPECT_EQ(txn["timestamp_us"], manifest.transaction.timestamp_us);
  EXPECT_EQ(txn["duration_us"], manifest.transaction.duration_us);
  EXPECT_EQ(txn["rows_added"], manifest.transaction.rows_added);
  EXPECT_EQ(txn["rows_deleted"], manifest.transaction.rows_deleted);
  EXPECT_EQ(txn["detail"]["tail_rows"], 5);

  // Free-form fields that are not JSON, or too deeply nested, render as strings.
  manifest.transaction.detail = "not json";
  EXPECT_EQ(nlohmann::json::parse(ManifestToJson(manifest))["transaction"]["detail"], "not json");
  manifest.transaction.detail = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_TRUE(nlohmann::json::parse(ManifestToJson(manifest))["transaction"]["detail"].is_string());
}

TEST(ManifestCodecTest, JsonNeverThrowsOnRandomManifests) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::string json = ManifestToJson(RandomManifest(seed));
    EXPECT_FALSE(nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false).is_discarded());
  }
}

}  // namespace
}  // namespace tessera::format
