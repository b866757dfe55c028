#include "api/csv_table.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace iclcert::api {

std::string csv_number(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char s[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(s, sizeof s, "%.*g", digits, v);
    if (std::strtod(s, nullptr) == v) break;
  }
  // "1" would make pandas read a column of whole-valued doubles as integers.
  std::string out = s;
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string csv_field(const std::string& v) {
  const bool quote = v.find_first_of(",\"\r\n") != std::string::npos ||
                     (!v.empty() && (v.front() == ' ' || v.back() == ' '));
  if (!quote) return v;
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

CsvTable::CsvTable(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void CsvTable::check_complete() const {
  if (!rows_.empty() && rows_.back().size() != columns_.size())
    throw std::logic_error("CsvTable: a row of " + std::to_string(rows_.back().size()) + " cells under " +
                           std::to_string(columns_.size()) + " columns");
}

CsvTable& CsvTable::row() {
  check_complete();
  rows_.emplace_back();
  rows_.back().reserve(columns_.size());
  return *this;
}

CsvTable& CsvTable::cell(std::string v) {
  if (rows_.empty() || rows_.back().size() == columns_.size())
    throw std::logic_error("CsvTable: a cell beyond the last column, or before row()");
  rows_.back().push_back(std::move(v));
  return *this;
}

CsvTable& CsvTable::number(double v) { return cell(csv_number(v)); }
CsvTable& CsvTable::integer(long long v) { return cell(std::to_string(v)); }
CsvTable& CsvTable::text(const std::string& v) { return cell(csv_field(v)); }
CsvTable& CsvTable::empty() { return cell(""); }

std::string CsvTable::text() const {
  check_complete();
  std::string out;
  auto line = [&](const std::vector<std::string>& cells, bool quote) {
    for (std::size_t k = 0; k < cells.size(); ++k) {
      if (k) out += ',';
      out += quote ? csv_field(cells[k]) : cells[k];
    }
    out += '\n';
  };
  line(columns_, true);
  for (const auto& r : rows_) line(r, false);
  return out;
}

std::string round_trip_decimal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace iclcert::api
