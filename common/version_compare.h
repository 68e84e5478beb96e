#pragma once
// Package version ordering, exactly as the package managers themselves order versions.
//
//   dpkg: [EPOCH:]UPSTREAM[-REVISION]. The epoch ends at the first ':', the revision starts
//         after the last '-'. Within upstream and revision, '~' sorts before everything (even
//         the end of the string), then the end, then letters, then other characters; digit
//         runs compare numerically, of any length.
//   rpm:  [EPOCH:]VERSION[-RELEASE], the release after the last '-'. A missing epoch is 0.
//         Segments are runs of digits or of letters; other characters only separate them.
//         '~' sorts before anything, '^' sorts after the end of the string but before any
//         other segment, a numeric segment beats an alphabetic one, leading zeros are
//         ignored, and when all common segments tie the longer version wins. As rpm 4.18's
//         rpmverCmp does, a version without a release sorts before the same version with
//         any release (even an empty one).
//
// Error policy: these never throw and never fail. Malformed versions (which dpkg would
// reject) are still ordered by the same rules, so a corrupt database entry cannot stop a
// comparison.
#include <string_view>

namespace muster {

// All return <0, 0 or >0 like strcmp.
int compare_dpkg_versions(std::string_view a, std::string_view b);
int compare_rpm_versions(std::string_view a, std::string_view b);

// Only rpm's segment comparison (rpmvercmp), without splitting epoch and release.
int compare_rpm_segments(std::string_view a, std::string_view b);

// Chooses the rules by package source name: "deb" (and "dpkg") use dpkg's, everything else
// ("rpm", and also "apk", "pacman", ... whose rules are close to rpm's for ordinary version
// strings) uses rpm's. Sources with their own quirks should get their own function here.
int compare_versions(std::string_view source, std::string_view a, std::string_view b);

}  // namespace muster
