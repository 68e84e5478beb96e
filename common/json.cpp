#include "common/json.h"

namespace muster {

namespace {

void write_pretty(std::string& out, const boost::json::value& value, int depth) {
    auto indent = [&](int d) { out.append(static_cast<std::size_t>(d) * 2, ' '); };
    switch (value.kind()) {
        case boost::json::kind::object: {
            const auto& object = value.get_object();
            if (object.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            bool first = true;
            for (const auto& [key, member] : object) {
                if (!first) out += ",\n";
                first = false;
                indent(depth + 1);
                out += boost::json::serialize(boost::json::string_view(key));
                out += ": ";
                write_pretty(out, member, depth + 1);
            }
            out += '\n';
            indent(depth);
            out += '}';
            return;
        }
        case boost::json::kind::array: {
            const auto& array = value.get_array();
            if (array.empty()) {
                out += "[]";
                return;
            }
            out += "[\n";
            bool first = true;
            for (const auto& element : array) {
                if (!first) out += ",\n";
                first = false;
                indent(depth + 1);
                write_pretty(out, element, depth + 1);
            }
            out += '\n';
            indent(depth);
            out += ']';
            return;
        }
        default:
            out += boost::json::serialize(value);
    }
}

}  // namespace

std::string to_pretty_json(const boost::json::value& value) {
    std::string out;
    write_pretty(out, value, 0);
    out += '\n';
    return out;
}

}  // namespace muster
