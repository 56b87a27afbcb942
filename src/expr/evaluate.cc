// Vectorized evaluation: every node runs one tight loop over whole columns, with the
// operator, the column type and the literal's representation resolved before the loop.
//
// The loops read an Array's buffers through raw pointers taken once (offset() applied),
// in the layout documented in include/tessera/record_batch.h: through the Array accessors
// every store to the uint8_t output could alias the Array's fields and force a reload per
// row. REQUIRES (of every function here): num_rows > 0, so every buffer is present.
#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "expr/literal_internal.h"
#include "expr/node_internal.h"

namespace tessera::expr::internal {
namespace {

template <CompareOp kOp, typename A, typename B>
bool Compare(const A& a, const B& b) {
  if constexpr (kOp == CompareOp::kEq) return a == b;
  if constexpr (kOp == CompareOp::kNe) return a != b;
  if constexpr (kOp == CompareOp::kLt) return a < b;
  if constexpr (kOp == CompareOp::kLe) return a <= b;
  if constexpr (kOp == CompareOp::kGt) return a > b;
  if constexpr (kOp == CompareOp::kGe) return a >= b;
}

// Return whether `ord` (the ordering of a versus b) satisfies a `kOp` b.
template <CompareOp kOp>
bool Holds(std::partial_ordering ord) {
  if constexpr (kOp == CompareOp::kEq) return ord == 0;
  if constexpr (kOp == CompareOp::kNe) return ord != 0;
  if constexpr (kOp == CompareOp::kLt) return ord < 0;
  if constexpr (kOp == CompareOp::kLe) return ord <= 0;
  if constexpr (kOp == CompareOp::kGt) return ord > 0;
  if constexpr (kOp == CompareOp::kGe) return ord >= 0;
}

template <CompareOp kOp>
using OpTag = std::integral_constant<CompareOp, kOp>;

// Call `fn` with an OpTag for `op`, so the comparison is a compile-time constant.
template <typename Fn>
void DispatchOp(CompareOp op, Fn&& fn) {
  switch (op) {
    case CompareOp::kEq:
      fn(OpTag<CompareOp::kEq>());
      return;
    case CompareOp::kNe:
      fn(OpTag<CompareOp::kNe>());
      return;
    case CompareOp::kLt:
      fn(OpTag<CompareOp::kLt>());
      return;
    case CompareOp::kLe:
      fn(OpTag<CompareOp::kLe>());
      return;
    case CompareOp::kGt:
      fn(OpTag<CompareOp::kGt>());
      return;
    case CompareOp::kGe:
      fn(OpTag<CompareOp::kGe>());
      return;
  }
}

// The fixed-width values of `array`, starting at its row 0.
template <typename T>
const T* ValuesOf(const Array& array) {
  return reinterpret_cast<const T*>(array.values().data) + array.offset();
}

// A bitmap (validity or bool values) viewed from the array's row 0.
struct BitReader {
  const uint8_t* bits;
  int64_t offset;
  bool operator()(int64_t row) const {
    const int64_t bit = offset + row;
    return (bits[bit >> 3] >> (bit & 7)) & 1;
  }
};

// Return whether some row of `array` may be null (else it has no validity bitmap to read).
bool HasNulls(const Array& array) { return array.null_count() != 0 && !array.validity().empty(); }

BitReader ValidityOf(const Array& array) { return {array.validity().data, array.offset()}; }

// Call `fn` with a getter int64_t(row) for an int32, int64 or timestamp array.
template <typename Fn>
void VisitIntegral(const Array& array, Fn&& fn) {
  if (array.type().id == TypeId::kInt32) {
    const int32_t* values = ValuesOf<int32_t>(array);
    fn([values](int64_t row) -> int64_t { return values[row]; });
  } else {
    const int64_t* values = ValuesOf<int64_t>(array);
    fn([values](int64_t row) -> int64_t { return values[row]; });
  }
}

// Call `fn` with a getter double(row) for a float32 or float64 array.
template <typename Fn>
void VisitFloating(const Array& array, Fn&& fn) {
  if (array.type().id == TypeId::kFloat32) {
    const float* values = ValuesOf<float>(array);
    fn([values](int64_t row) -> double { return values[row]; });
  } else {
    const double* values = ValuesOf<double>(array);
    fn([values](int64_t row) -> double { return values[row]; });
  }
}

uint8_t ToTruth(bool value) { return value ? kTrue : kFalse; }

// Set the rows where `array` is null to unknown.
void ApplyNulls(const Array& array, int64_t num_rows, uint8_t* out) {
  if (!HasNulls(array)) return;
  const BitReader valid = ValidityOf(array);
  for (int64_t row = 0; row < num_rows; ++row) {
    if (!valid(row)) out[row] = kUnknown;
  }
}

void Invert(int64_t num_rows, uint8_t* out) {
  for (int64_t row = 0; row < num_rows; ++row) out[row] = static_cast<uint8_t>(kTrue - out[row]);
}

// Fixed-width columns: evaluate every slot (null slots hold readable, meaningless
// values), then overwrite the null rows. The first loop has no branches.
template <typename Get, typename Pred>
void FillFixed(const Array& array, int64_t num_rows, Get get, Pred pred, uint8_t* out) {
  for (int64_t row = 0; row < num_rows; ++row) out[row] = ToTruth(pred(get(row)));
  ApplyNulls(array, num_rows, out);
}

// Strings and booleans: read only valid slots.
template <typename Get, typename Pred>
void FillChecked(const Array& array, int64_t num_rows, Get get, Pred pred, uint8_t* out) {
  if (!HasNulls(array)) {
    for (int64_t row = 0; row < num_rows; ++row) out[row] = ToTruth(pred(get(row)));
    return;
  }
  const BitReader valid = ValidityOf(array);
  for (int64_t row = 0; row < num_rows; ++row) {
    out[row] = valid(row) ? ToTruth(pred(get(row))) : kUnknown;
  }
}

// utf8: int32 offsets (from the array's row 0) into the data buffer.
auto StringGetter(const Array& array) {
  const int32_t* offsets = ValuesOf<int32_t>(array);
  const char* data = reinterpret_cast<const char*>(array.data().data);
  return [offsets, data](int64_t row) {
    return std::string_view(data + offsets[row],
                            static_cast<size_t>(offsets[row + 1] - offsets[row]));
  };
}
BitReader BoolGetter(const Array& array) { return {array.values().data, array.offset()}; }

void EvaluateColumnCompare(const Node& node, const Array& left, const Array& right,
                           int64_t num_rows, uint8_t* out) {
  const DataType& left_type = left.type();
  const DataType& right_type = right.type();
  DispatchOp(node.op, [&](auto op_tag) {
    constexpr CompareOp kOp = decltype(op_tag)::value;
    auto fill = [&](auto get_left, auto get_right, auto compare) {
      for (int64_t row = 0; row < num_rows; ++row) {
        out[row] = ToTruth(compare(get_left(row), get_right(row)));
      }
    };
    if (left_type.is_integer() && right_type.is_integer()) {
      VisitIntegral(left, [&](auto get_left) {
        VisitIntegral(right, [&](auto get_right) {
          fill(get_left, get_right, [](int64_t a, int64_t b) { return Compare<kOp>(a, b); });
        });
      });
    } else if (left_type.is_floating() && right_type.is_floating()) {
      VisitFloating(left, [&](auto get_left) {
        VisitFloating(right, [&](auto get_right) {
          fill(get_left, get_right, [](double a, double b) { return Compare<kOp>(a, b); });
        });
      });
    } else if (left_type.is_integer() && right_type.is_floating()) {
      VisitIntegral(left, [&](auto get_left) {
        VisitFloating(right, [&](auto get_right) {
          fill(get_left, get_right,
               [](int64_t a, double b) { return Holds<kOp>(CompareIntDouble(a, b)); });
        });
      });
    } else if (left_type.is_floating() && right_type.is_integer()) {
      VisitFloating(left, [&](auto get_left) {
        VisitIntegral(right, [&](auto get_right) {
          fill(get_left, get_right,
               [](double a, int64_t b) { return Holds<kOp>(0 <=> CompareIntDouble(b, a)); });
        });
      });
    } else {
      // utf8 or bool on both sides (the parser admits nothing else): read valid slots only.
      auto fill_checked = [&](auto get_left, auto get_right) {
        for (int64_t row = 0; row < num_rows; ++row) {
          if (!left.IsValid(row) || !right.IsValid(row)) {
            out[row] = kUnknown;
          } else {
            out[row] = ToTruth(Compare<kOp>(get_left(row), get_right(row)));
          }
        }
      };
      if (left_type.id == TypeId::kUtf8) {
        fill_checked(StringGetter(left), StringGetter(right));
      } else {
        fill_checked(BoolGetter(left), BoolGetter(right));
      }
      return;
    }
  });
  ApplyNulls(left, num_rows, out);
  ApplyNulls(right, num_rows, out);
}

void EvaluateCompare(const Node& node, const EvalContext& context, uint8_t* out) {
  const Array& array = *context.columns[node.column.field_index];
  const int64_t num_rows = context.num_rows;
  switch (node.plan) {
    case LiteralPlan::kColumn:
      EvaluateColumnCompare(node, array, *context.columns[node.right.field_index], num_rows, out);
      return;
    case LiteralPlan::kNull:
      std::fill_n(out, num_rows, kUnknown);
      return;
    case LiteralPlan::kConstant:
      std::fill_n(out, num_rows, ToTruth(node.plan_constant));
      ApplyNulls(array, num_rows, out);
      return;
    case LiteralPlan::kInt:
      VisitIntegral(array, [&](auto get) {
        DispatchOp(node.plan_op, [&](auto op_tag) {
          constexpr CompareOp kOp = decltype(op_tag)::value;
          const int64_t literal = node.plan_int;
          FillFixed(
              array, num_rows, get, [literal](int64_t v) { return Compare<kOp>(v, literal); }, out);
        });
      });
      return;
    case LiteralPlan::kDouble:
      VisitFloating(array, [&](auto get) {
        DispatchOp(node.plan_op, [&](auto op_tag) {
          constexpr CompareOp kOp = decltype(op_tag)::value;
          const double literal = node.plan_double;
          FillFixed(
              array, num_rows, get, [literal](double v) { return Compare<kOp>(v, literal); }, out);
        });
      });
      return;
    case LiteralPlan::kString: {
      const std::string_view literal = std::get<std::string>(node.right.value);
      DispatchOp(node.plan_op, [&](auto op_tag) {
        constexpr CompareOp kOp = decltype(op_tag)::value;
        FillChecked(
            array, num_rows, StringGetter(array),
            [literal](std::string_view v) { return Compare<kOp>(v, literal); }, out);
      });
      return;
    }
    case LiteralPlan::kBool: {
      const bool literal = std::get<bool>(node.right.value);
      DispatchOp(node.plan_op, [&](auto op_tag) {
        constexpr CompareOp kOp = decltype(op_tag)::value;
        FillChecked(
            array, num_rows, BoolGetter(array),
            [literal](bool v) { return Compare<kOp>(v, literal); }, out);
      });
      return;
    }
  }
}

// Lists up to this size are scanned linearly; longer ones are binary-searched.
constexpr size_t kLinearInLimit = 8;

template <typename T>
bool Contains(const std::vector<T>& sorted, const T& value) {
  if (sorted.size() <= kLinearInLimit)
    return std::find(sorted.begin(), sorted.end(), value) != sorted.end();
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

void EvaluateIn(const Node& node, const EvalContext& context, uint8_t* out) {
  const Array& array = *context.columns[node.column.field_index];
  const int64_t num_rows = context.num_rows;
  const DataType& type = array.type();
  if (type.is_integer()) {
    VisitIntegral(array, [&](auto get) {
      FillFixed(
          array, num_rows, get, [&node](int64_t v) { return Contains(node.in_ints, v); }, out);
    });
  } else if (type.is_floating()) {
    VisitFloating(array, [&](auto get) {
      // NaN equals nothing (binary search alone would call it equivalent to anything).
      FillFixed(
          array, num_rows, get,
          [&node](double v) { return v == v && Contains(node.in_doubles, v); }, out);
    });
  } else if (type.id == TypeId::kUtf8) {
    const std::vector<std::string>& values = node.in_strings;
    FillChecked(
        array, num_rows, StringGetter(array),
        [&values](std::string_view v) {
          if (values.size() <= kLinearInLimit) {
            return std::find(values.begin(), values.end(), v) != values.end();
          }
          return std::binary_search(values.begin(), values.end(), v, std::less<>());
        },
        out);
  } else {
    const bool in_false = node.in_false;
    const bool in_true = node.in_true;
    FillChecked(
        array, num_rows, BoolGetter(array),
        [in_false, in_true](bool v) { return v ? in_true : in_false; }, out);
  }
  if (node.list_has_null) {
    // x IN (..., NULL) is unknown rather than false when nothing else matches.
    for (int64_t row = 0; row < num_rows; ++row) {
      if (out[row] == kFalse) out[row] = kUnknown;
    }
  }
  if (node.negated) Invert(num_rows, out);
}

void EvaluateLike(const Node& node, const EvalContext& context, uint8_t* out) {
  const Array& array = *context.columns[node.column.field_index];
  const int64_t num_rows = context.num_rows;
  const LikePattern& like = node.like;
  const std::string_view literal = like.literal;
  auto fill = [&](auto pred) { FillChecked(array, num_rows, StringGetter(array), pred, out); };
  switch (like.kind) {
    case LikePattern::Kind::kExact:
      fill([literal](std::string_view v) { return v == literal; });
      break;
    case LikePattern::Kind::kPrefix:
      fill([literal](std::string_view v) { return v.starts_with(literal); });
      break;
    case LikePattern::Kind::kSuffix:
      fill([literal](std::string_view v) { return v.ends_with(literal); });
      break;
    case LikePattern::Kind::kContains:
      fill([literal](std::string_view v) { return v.find(literal) != std::string_view::npos; });
      break;
    case LikePattern::Kind::kAnyString:
      fill([](std::string_view) { return true; });
      break;
    case LikePattern::Kind::kGeneral:
      fill([&like](std::string_view v) { return like.Matches(v); });
      break;
  }
  if (node.negated) Invert(num_rows, out);
}

void EvaluateIsNull(const Node& node, const EvalContext& context, uint8_t* out) {
  const Array& array = *context.columns[node.column.field_index];
  const int64_t num_rows = context.num_rows;
  const uint8_t if_null = node.negated ? kFalse : kTrue;
  const uint8_t if_valid = node.negated ? kTrue : kFalse;
  if (!HasNulls(array)) {
    std::fill_n(out, num_rows, if_valid);
    return;
  }
  const BitReader valid = ValidityOf(array);
  for (int64_t row = 0; row < num_rows; ++row) out[row] = valid(row) ? if_valid : if_null;
}

// Combine the children of an AND (min) or OR (max) node into `out`.
void EvaluateConnective(const Node& node, const EvalContext& context, uint8_t* out) {
  const int64_t num_rows = context.num_rows;
  const bool is_and = node.kind != NodeKind::kOr;
  // Once every row is decided (all false under AND, all true under OR) the rest can't matter.
  const uint8_t decided = is_and ? kFalse : kTrue;
  EvaluateNode(node.children[0], context, out);
  std::vector<uint8_t> scratch(static_cast<size_t>(num_rows));
  for (size_t child = 1; child < node.children.size(); ++child) {
    if (std::all_of(out, out + num_rows, [decided](uint8_t v) { return v == decided; })) break;
    EvaluateNode(node.children[child], context, scratch.data());
    if (is_and) {
      for (int64_t row = 0; row < num_rows; ++row) out[row] = std::min(out[row], scratch[row]);
    } else {
      for (int64_t row = 0; row < num_rows; ++row) out[row] = std::max(out[row], scratch[row]);
    }
  }
}

}  // namespace

void EvaluateNode(const Node& node, const EvalContext& context, uint8_t* out) {
  const int64_t num_rows = context.num_rows;
  switch (node.kind) {
    case NodeKind::kConst:
      std::fill_n(out, num_rows, node.constant);
      return;
    case NodeKind::kAnd:
    case NodeKind::kOr:
      EvaluateConnective(node, context, out);
      return;
    case NodeKind::kBetween:
      EvaluateConnective(node, context, out);
      if (node.negated) Invert(num_rows, out);
      return;
    case NodeKind::kNot:
      EvaluateNode(node.children[0], context, out);
      Invert(num_rows, out);
      return;
    case NodeKind::kCompare:
      EvaluateCompare(node, context, out);
      return;
    case NodeKind::kIn:
      EvaluateIn(node, context, out);
      return;
    case NodeKind::kIsNull:
      EvaluateIsNull(node, context, out);
      return;
    case NodeKind::kLike:
      EvaluateLike(node, context, out);
      return;
    case NodeKind::kBoolColumn: {
      const Array& array = *context.columns[node.column.field_index];
      FillChecked(
          array, num_rows, BoolGetter(array), [](bool v) { return v; }, out);
      return;
    }
  }
}

}  // namespace tessera::expr::internal
