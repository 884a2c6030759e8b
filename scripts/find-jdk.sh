#!/usr/bin/env bash
# Prints the home of a JDK 25 or newer, or explains on stderr and exits 1.
# Order: $JAVA_HOME, /usr/lib/jvm/*, the java on PATH.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1; }
candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*; do [ -d "$d" ] && candidates+=("$d"); done
if command -v java >/dev/null 2>&1; then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
fi
for home in "${candidates[@]}"; do
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
  v=$(java_major "$home")
  if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then echo "$home"; exit 0; fi
done
echo "error: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, java on PATH)." >&2
echo "       Install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
exit 1
