#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "expr/literal_internal.h"

namespace tessera::expr::internal {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, int* month, int* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;
  *day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
  *month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Read exactly `count` digits at `*pos` into `*value`.
bool ReadDigits(std::string_view text, size_t* pos, int count, int64_t* value) {
  if (*pos + count > text.size()) return false;
  int64_t result = 0;
  for (int index = 0; index < count; ++index) {
    const char c = text[*pos + index];
    if (c < '0' || c > '9') return false;
    result = result * 10 + (c - '0');
  }
  *pos += count;
  *value = result;
  return true;
}

bool Consume(std::string_view text, size_t* pos, char expected) {
  if (*pos < text.size() && text[*pos] == expected) {
    ++*pos;
    return true;
  }
  return false;
}

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

std::partial_ordering CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (d >= kTwoTo63) return std::partial_ordering::less;
  if (d < -kTwoTo63) return std::partial_ordering::greater;
  const auto truncated = static_cast<int64_t>(d);  // in range: checked above
  if (i != truncated)
    return i < truncated ? std::partial_ordering::less : std::partial_ordering::greater;
  const double fraction = d - static_cast<double>(truncated);  // exact
  if (fraction > 0) return std::partial_ordering::less;
  if (fraction < 0) return std::partial_ordering::greater;
  return std::partial_ordering::equivalent;
}

std::partial_ordering CompareValues(const Value& a, const Value& b) {
  if (const auto* a_int = std::get_if<int64_t>(&a)) {
    if (const auto* b_int = std::get_if<int64_t>(&b)) return *a_int <=> *b_int;
    if (const auto* b_double = std::get_if<double>(&b)) return CompareIntDouble(*a_int, *b_double);
    return std::partial_ordering::unordered;
  }
  if (const auto* a_double = std::get_if<double>(&a)) {
    if (const auto* b_double = std::get_if<double>(&b)) return *a_double <=> *b_double;
    if (const auto* b_int = std::get_if<int64_t>(&b)) {
      return 0 <=> CompareIntDouble(*b_int, *a_double);
    }
    return std::partial_ordering::unordered;
  }
  if (const auto* a_string = std::get_if<std::string>(&a)) {
    if (const auto* b_string = std::get_if<std::string>(&b)) {
      const int cmp = a_string->compare(*b_string);
      return cmp <=> 0;
    }
    return std::partial_ordering::unordered;
  }
  if (const auto* a_bool = std::get_if<bool>(&a)) {
    if (const auto* b_bool = std::get_if<bool>(&b)) return *a_bool <=> *b_bool;
  }
  return std::partial_ordering::unordered;
}

std::optional<int64_t> ParseTimestamp(std::string_view text) {
  size_t pos = 0;
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Consume(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Consume(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, static_cast<int>(month))) {
    return std::nullopt;
  }
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t micros = 0;
  if (Consume(text, &pos, ' ') || Consume(text, &pos, 'T')) {
    if (!ReadDigits(text, &pos, 2, &hour) || !Consume(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &minute)) {
      return std::nullopt;
    }
    if (Consume(text, &pos, ':')) {
      if (!ReadDigits(text, &pos, 2, &second)) return std::nullopt;
      if (Consume(text, &pos, '.')) {
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (++digits > 6) return std::nullopt;
          micros = micros * 10 + (text[pos++] - '0');
        }
        if (digits == 0) return std::nullopt;
        for (; digits < 6; ++digits) micros *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  Consume(text, &pos, 'Z');
  if (pos != text.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day));
  return days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(days, &year, &month, &day);
  const int64_t seconds_of_day = rest / kMicrosPerSecond;
  const int64_t fraction = rest % kMicrosPerSecond;
  char buffer[64];
  int length = std::snprintf(buffer, sizeof(buffer), "%04lld-%02d-%02d %02lld:%02lld:%02lld",
                             static_cast<long long>(year), month, day,
                             static_cast<long long>(seconds_of_day / 3600),
                             static_cast<long long>(seconds_of_day / 60 % 60),
                             static_cast<long long>(seconds_of_day % 60));
  std::string out(buffer, static_cast<size_t>(length));
  if (fraction != 0) {
    length = std::snprintf(buffer, sizeof(buffer), ".%06lld", static_cast<long long>(fraction));
    out.append(buffer, static_cast<size_t>(length));
  }
  return out;
}

std::string QuoteString(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  out.push_back('\'');
  return out;
}

std::string FormatDouble(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string out(buffer, ec == std::errc() ? end : buffer);
  if (out.find_first_of(".eEni") == std::string::npos) out += ".0";
  return out;
}

bool IsReservedWord(std::string_view word) {
  static constexpr std::array<std::string_view, 10> kReserved = {
      "and", "or", "not", "in", "between", "is", "null", "like", "true", "false"};
  if (word.size() > 7) return false;
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const std::string_view reserved : kReserved) {
    if (lower == reserved) return true;
  }
  return false;
}

std::string FormatIdentifier(std::string_view name) {
  bool plain = !name.empty() && IsIdentifierStart(name[0]) && !IsReservedWord(name);
  for (size_t pos = 1; plain && pos < name.size(); ++pos) plain = IsIdentifierChar(name[pos]);
  if (plain) return std::string(name);
  std::string out = "\"";
  for (const char c : name) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

}  // namespace tessera::expr::internal
