#include "options.hpp"

#include "zcopy/core/units.hpp"

namespace zc::cli {

CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                             const std::string& description, std::uint64_t minimum) {
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name, minimum](const std::string& text) {
        auto size = parse_size(text);
        if (!size) throw CLI::ValidationError(name, size.error().message());
        if (*size < minimum) {
          throw CLI::ValidationError(
              name, "size '" + text + "' must be at least " + format_bytes(minimum));
        }
        target = *size;
      },
      description);
  option->type_name("SIZE");
  return option;
}

}  // namespace zc::cli
