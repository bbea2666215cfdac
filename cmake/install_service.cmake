# install_service.cmake - run by `cmake --install` (install(CODE) in the top
# CMakeLists.txt), so the paths follow the prefix given at install time
# (`cmake --install build --prefix DIR`), not only the configure-time one.
#
# In: FT_SRC (source tree), FT_BUILD (build tree, for a temporary file),
# FT_BINDIR, FT_SYSCONFDIR, FT_UNITDIR (each relative to the prefix, or
# absolute), FT_SYSTEMD (ON/OFF); CMake sets
# CMAKE_INSTALL_PREFIX and the environment DESTDIR.
#
# - packaging/flowtally.service -> UNITDIR/flowtally.service with ExecStart
#   naming the installed binary and configuration file;
# - packaging/flowtally.conf -> SYSCONFDIR/flowtally/flowtally.conf, only
#   when no such file exists: an operator's edits survive a reinstall.

function(ft_full out rel)
  if(IS_ABSOLUTE "${rel}")
    set(${out} "${rel}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

ft_full(bindir "${FT_BINDIR}")
# GNU coding standards, as GNUInstallDirs: the prefix /usr keeps its
# configuration in /etc, any other prefix in PREFIX/etc.
if(NOT IS_ABSOLUTE "${FT_SYSCONFDIR}" AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(confdir "/${FT_SYSCONFDIR}/flowtally")
else()
  ft_full(confdir "${FT_SYSCONFDIR}")
  set(confdir "${confdir}/flowtally")
endif()

set(conf "$ENV{DESTDIR}${confdir}/flowtally.conf")
if(EXISTS "${conf}")
  message(STATUS "Keeping: ${conf}")
else()
  file(INSTALL "${FT_SRC}/packaging/flowtally.conf" DESTINATION "$ENV{DESTDIR}${confdir}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

if(FT_SYSTEMD)
  ft_full(unitdir "${FT_UNITDIR}")
  file(READ "${FT_SRC}/packaging/flowtally.service" unit)
  string(REPLACE "/usr/local/bin/flowtally" "${bindir}/flowtally" unit "${unit}")
  string(REPLACE "/etc/flowtally/flowtally.conf" "${confdir}/flowtally.conf" unit "${unit}")
  set(tmp "${FT_BUILD}/flowtally.service.install")
  file(WRITE "${tmp}" "${unit}")
  file(INSTALL "${tmp}" DESTINATION "$ENV{DESTDIR}${unitdir}" RENAME flowtally.service
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
