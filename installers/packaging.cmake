# Packages: muster-agent and muster-collector (with musterctl), as .deb (CPack DEB) and .rpm
# (CPack RPM), from one set of install() rules below. docs/packages.md describes the result.
#   cmake --build BUILD --target package      both formats
#   cd BUILD && cpack -G DEB                  or -G RPM
# Paths are relative to CPACK_PACKAGING_INSTALL_PREFIX "/" so that /etc, /lib and /usr land
# where Debian wants them; `cmake --install` alone puts them under CMAKE_INSTALL_PREFIX.
if(MUSTER_SANITIZE OR MUSTER_FUZZ)
  return()  # sanitizer and fuzzing trees make no packages
endif()

set(muster_installers ${PROJECT_SOURCE_DIR}/installers)
set(muster_packaging_dir ${CMAKE_BINARY_DIR}/packaging)

# --- files each package installs --------------------------------------------------------

# Components are named like the packages so that every per-component variable below reads
# CPACK_<GENERATOR>_MUSTER-AGENT_... (CPack upper-cases the component name).
install(TARGETS muster-agent RUNTIME DESTINATION usr/bin COMPONENT muster-agent)
install(TARGETS muster-collector musterctl RUNTIME DESTINATION usr/bin COMPONENT muster-collector)

# Both configs hold secrets (the enrollment token; token hashes, key paths), so neither is
# world-readable. The collector's is given to group muster by the postinst.
install(FILES ${PROJECT_SOURCE_DIR}/config/agent.yaml DESTINATION etc/muster
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT muster-agent)
install(FILES ${PROJECT_SOURCE_DIR}/config/collector.yaml DESTINATION etc/muster
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT muster-collector)

install(FILES ${muster_installers}/systemd/muster-agent.service DESTINATION lib/systemd/system
        COMPONENT muster-agent)
install(FILES ${muster_installers}/systemd/muster-collector.service
        DESTINATION lib/systemd/system COMPONENT muster-collector)

# Debian wants a copyright file and a compressed changelog in each package's doc dir, made
# reproducibly (gzip -n: no name or time stamp). A native package (no Debian revision in
# the version) calls it changelog.gz.
configure_file(${muster_installers}/doc/changelog.in ${muster_packaging_dir}/changelog @ONLY)
execute_process(COMMAND gzip -9nc ${muster_packaging_dir}/changelog
                OUTPUT_FILE ${muster_packaging_dir}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
foreach(package muster-agent muster-collector)
  install(FILES ${muster_installers}/doc/copyright ${muster_packaging_dir}/changelog.gz
          DESTINATION usr/share/doc/${package} COMPONENT ${package})
  # Tags that do not apply, each with the reason in the file.
  install(FILES ${muster_installers}/debian/${package}.lintian-overrides
          DESTINATION usr/share/lintian/overrides RENAME ${package} COMPONENT ${package})
endforeach()

# --- common package metadata ------------------------------------------------------------

set(CPACK_PACKAGE_NAME muster)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "muster")
set(CPACK_PACKAGE_CONTACT "muster maintainers <maintainers@muster.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/")
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL muster-agent muster-collector)
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component
set(CPACK_GENERATOR DEB RPM)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)

set(muster_agent_summary "inventory and health checks for the muster CMDB")
set(muster_agent_description
    "The muster agent takes this machine's inventory (hardware, OS, disks,\n\
network, installed software, services, listening ports, users), runs\n\
health checks and sends both, signed, to a muster collector. It runs as\n\
root: its systemd unit says why.")
set(muster_collector_summary "muster CMDB server, with its admin command line musterctl")
set(muster_collector_description
    "The muster collector receives inventories and check results from muster\n\
agents over HTTPS, keeps the CMDB in SQLite with its change history, opens\n\
incidents and sends notifications. musterctl is its admin command line.\n\
Run muster-collector init before starting the service.")

# --- Debian -------------------------------------------------------------------------------

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
foreach(package muster-agent muster-collector)
  string(TOUPPER ${package} component)
  string(REPLACE "-" "_" var ${package})
  set(CPACK_DEBIAN_${component}_PACKAGE_NAME ${package})
  set(CPACK_DEBIAN_${component}_DESCRIPTION "${${var}_summary}\n${${var}_description}")
  set(deb_scripts "")
  foreach(script conffiles postinst prerm postrm)
    list(APPEND deb_scripts ${muster_installers}/debian/${package}/${script})
  endforeach()
  set(CPACK_DEBIAN_${component}_PACKAGE_CONTROL_EXTRA ${deb_scripts})
endforeach()
# The collector's postinst makes its system user with adduser.
set(CPACK_DEBIAN_MUSTER-COLLECTOR_PACKAGE_DEPENDS "adduser")

# --- RPM ----------------------------------------------------------------------------------

set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Unspecified")  # no licence chosen yet: see doc/copyright
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_RELEASE 1)
# Fixed paths (/etc, /lib): not relocatable. No /usr/lib/.build-id links: the rpms hold the
# same files as the debs.
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_NO_INSTALL_PREFIX_RELOCATION ON)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")
# Directories owned by the base system, not by us.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION /lib /lib/systemd /lib/systemd/system
    /usr/share/lintian /usr/share/lintian/overrides)
foreach(package muster-agent muster-collector)
  string(TOUPPER ${package} component)
  string(REPLACE "-" "_" var ${package})
  string(REPLACE "muster-" "" short ${package})
  set(CPACK_RPM_${component}_PACKAGE_NAME ${package})
  set(CPACK_RPM_${component}_PACKAGE_SUMMARY "${${var}_summary}")
  set(CPACK_RPM_${component}_PACKAGE_DESCRIPTION "${${var}_description}")
  set(CPACK_RPM_${component}_USER_FILELIST "%config(noreplace) /etc/muster/${short}.yaml")
  set(CPACK_RPM_${component}_POST_INSTALL_SCRIPT_FILE ${muster_installers}/rpm/${package}.post)
  set(CPACK_RPM_${component}_PRE_UNINSTALL_SCRIPT_FILE ${muster_installers}/rpm/${package}.preun)
  set(CPACK_RPM_${component}_POST_UNINSTALL_SCRIPT_FILE
      ${muster_installers}/rpm/${package}.postun)
endforeach()

include(CPack)
