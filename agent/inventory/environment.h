#pragma once
// Where the agent runs: inside a virtual machine, inside a container, both or neither. The
// "system" section reports both; the "hardware" section uses the container answer to withhold
// the host's identity (a container must never be reported with its host's serial number).
//
// Names follow systemd-detect-virt where one exists, so that the two can be compared:
//   virtualization: none, kvm, qemu, bochs, amazon, google, microsoft (Hyper-V/Azure), vmware,
//                   virtualbox, xen, parallels, bhyve, acrn, qnx, sre, or "other" when the
//                   CPU says it runs under a hypervisor whose vendor is not recognised.
//   container:      none, docker, podman, lxc, systemd-nspawn, wsl, openvz, kubernetes, or the
//                   word found in /run/systemd/container or PID 1's container= variable.
//
// Only evidence under the context root is used, except the CPUID hypervisor signature, which
// is asked of the processor when reading the live system (it is what tells KVM from bhyve on
// a machine without DMI data).
#include "agent/inventory/context.h"

#include <optional>
#include <string>

namespace muster::agent::inventory {

std::string detect_virtualization(const context& ctx);
std::string detect_container(const context& ctx);

// The DMI values that name a hypervisor, mapped to a name above; nullopt when they name none.
// The second result says whether the match is a generic emulator (QEMU, Bochs), which a more
// precise CPUID or clock source answer may refine to kvm.
struct dmi_identity {
    std::string sys_vendor;
    std::string product_name;
    std::string board_vendor;
    std::string bios_vendor;
};
std::optional<std::string> hypervisor_from_dmi(const dmi_identity& dmi, bool& generic_emulator);

// The name for a 12-byte CPUID leaf 0x40000000 vendor signature; nullopt when unknown.
std::optional<std::string> hypervisor_from_cpuid_signature(std::string_view signature);

}  // namespace muster::agent::inventory
