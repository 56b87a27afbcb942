// Recursive-descent parser and type checker of the filter language (grammar:
// docs/filter.md).
#pragma once

#include <string_view>

#include "expr/node_internal.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::expr::internal {

// Parse and type-check `text` against `schema`. Errors: kInvalidArgument
// "filter: <problem> at position N" (1-based character position).
Result<Node> ParseFilter(std::string_view text, const Schema& schema);

}  // namespace tessera::expr::internal
