#include "collector/init.h"

#include "collector/certificates.h"
#include "common/crypto.h"
#include "common/file.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/host_name.hpp>

#include <algorithm>
#include <sstream>

namespace muster::collector {
namespace {

namespace fs = std::filesystem;

struct server_identity {
    std::vector<std::string> dns_names{"localhost"};
    std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
    std::string url_host;  // the host an agent on this machine connects to
};

void add_unique(std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

// The certificate must be valid for the listen host and for localhost. A wildcard listen
// address (0.0.0.0, ::) is no name a client can use: then this machine's host name is
// certified instead, and the local agent connects to the loopback address.
server_identity identity_for(const listen_address& listen) {
    server_identity identity;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(listen.host, ec);
    if (ec) {
        add_unique(identity.dns_names, listen.host);
        identity.url_host = listen.host;
    } else if (address.is_unspecified()) {
        add_unique(identity.dns_names, boost::asio::ip::host_name());
        identity.url_host = address.is_v6() ? "::1" : "127.0.0.1";
    } else {
        add_unique(identity.ip_addresses, address.to_string());
        identity.url_host = address.to_string();
    }
    return identity;
}

// A YAML double-quoted scalar: safe for any path or token.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

void write_private_file(const fs::path& path, const std::string& content) {
    auto written = write_file_atomic(path, content, 0600);
    if (!written) {
        throw fs::filesystem_error("cannot write file", path, written.error());
    }
}

void make_private_dir(const fs::path& dir) {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

std::string collector_yaml(const fs::path& dir, const listen_address& listen,
                           const std::string& enrollment_token, const std::string& admin_token) {
    std::ostringstream out;
    out << "# muster-collector configuration, written by `muster-collector init`.\n"
        << "# Every key is documented in config/collector.yaml of the source tree.\n"
        << "listen: " << quoted(format_listen_address(listen)) << "\n"
        << "tls:\n"
        << "  cert_file: " << quoted((dir / "server.pem").string()) << "\n"
        << "  key_file: " << quoted((dir / "server.key").string()) << "\n"
        << "database: " << quoted((dir / "cmdb.sqlite").string()) << "\n"
        << "enrollment:\n"
        << "  mode: auto\n"
        << "  # SHA-256 of each accepted enrollment token; the tokens themselves are not kept "
           "here.\n"
        << "  token_sha256:\n"
        << "    - " << sha256_hex(enrollment_token) << "\n"
        << "admin:\n"
        << "  token_sha256:\n"
        << "    - " << sha256_hex(admin_token) << "\n"
        << "limits:\n"
        << "  max_body: 32MiB\n"
        << "  max_decompressed: 256MiB\n"
        << "  header_timeout: 10s\n"
        << "  read_timeout: 30s\n"
        << "  idle_timeout: 60s\n"
        << "  max_connections: 1024\n"
        << "  agent_rate_per_minute: 60\n"
        << "clock_skew: 5m\n"
        << "log:\n"
        << "  level: info\n"
        << "  format: text\n";
    return out.str();
}

std::string agent_yaml(const fs::path& dir, const std::string& url,
                       const std::string& enrollment_token) {
    std::ostringstream out;
    out << "# muster-agent configuration for an agent on this machine, written by\n"
        << "# `muster-collector init`. Contains the enrollment token: keep it private.\n"
        << "collector:\n"
        << "  url: " << quoted(url) << "\n"
        << "  ca_file: " << quoted((dir / "ca.pem").string()) << "\n"
        << "  enrollment_token: " << quoted(enrollment_token) << "\n"
        << "state_dir: " << quoted((dir / "agent-state").string()) << "\n";
    return out.str();
}

std::string ctl_yaml(const fs::path& dir, const std::string& url, const std::string& admin_token) {
    std::ostringstream out;
    out << "# musterctl configuration, written by `muster-collector init`.\n"
        << "# Contains the admin token: keep it private.\n"
        << "url: " << quoted(url) << "\n"
        << "token: " << quoted(admin_token) << "\n"
        << "ca_file: " << quoted((dir / "ca.pem").string()) << "\n";
    return out.str();
}

void write_certificates(const fs::path& dir, const server_identity& identity) {
    auto ca = make_certificate_authority("muster collector CA");
    auto server =
        make_server_certificate(ca, identity.url_host, identity.dns_names, identity.ip_addresses);
    write_private_file(dir / "ca.key", private_key_pem(ca.key.get()));
    write_private_file(dir / "ca.pem", certificate_pem(ca.certificate.get()));
    write_private_file(dir / "server.key", private_key_pem(server.key.get()));
    write_private_file(dir / "server.pem", certificate_pem(server.certificate.get()));
}

}  // namespace

init_result initialize_installation(const fs::path& dir_argument, const listen_address& listen) {
    const fs::path dir = fs::absolute(dir_argument).lexically_normal();
    if (fs::exists(dir / "collector.yaml")) {
        throw init_error(dir.string() +
                         " already holds an installation (collector.yaml); "
                         "refusing to overwrite it");
    }
    make_private_dir(dir);
    make_private_dir(dir / "agent-state");

    server_identity identity = identity_for(listen);
    init_result result;
    result.dir = dir;
    result.url = "https://" + format_listen_address({identity.url_host, listen.port});
    result.enrollment_token = random_token();
    result.admin_token = random_token();
    for (const auto& name : identity.dns_names) result.server_names.push_back("DNS:" + name);
    for (const auto& ip : identity.ip_addresses) result.server_names.push_back("IP:" + ip);

    write_certificates(dir, identity);
    write_private_file(dir / "agent.yaml", agent_yaml(dir, result.url, result.enrollment_token));
    write_private_file(dir / "ctl.yaml", ctl_yaml(dir, result.url, result.admin_token));
    // Last: its presence marks a complete installation.
    write_private_file(dir / "collector.yaml",
                       collector_yaml(dir, listen, result.enrollment_token, result.admin_token));
    return result;
}

std::string describe(const init_result& result) {
    const auto& dir = result.dir;
    std::ostringstream out;
    out << "Created a muster collector installation in " << dir.string() << ":\n"
        << "  ca.pem, ca.key          certificate authority (keep ca.key offline if you can)\n"
        << "  server.pem, server.key  TLS certificate for";
    for (const auto& name : result.server_names) out << " " << name;
    out << "\n"
        << "  collector.yaml          collector configuration (" << result.url << ")\n"
        << "  agent.yaml              agent on this machine, with the enrollment token\n"
        << "  ctl.yaml                musterctl, with the admin token\n"
        << "\n"
        << "Enrollment token: " << result.enrollment_token << "\n"
        << "Admin token:      " << result.admin_token << "\n"
        << "(only their SHA-256 is kept in collector.yaml; these are the only copies besides\n"
        << " agent.yaml and ctl.yaml)\n"
        << "\n"
        << "Start the collector:\n"
        << "  muster-collector serve --config " << (dir / "collector.yaml").string() << "\n"
        << "Send this machine's inventory:\n"
        << "  muster-agent once --config " << (dir / "agent.yaml").string() << "\n";
    return out.str();
}

}  // namespace muster::collector
