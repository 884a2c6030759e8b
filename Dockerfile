# The pipeline image used by docker-compose.yml for the router, the workers, the sink and the HTTP endpoint.
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests install

FROM eclipse-temurin:25-jre
WORKDIR /app
COPY --from=build /src/launcher/target/launcher.jar /app/launcher.jar
COPY --from=build /src/launcher/target/lib /app/lib
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "-cp", "/app/launcher.jar:/app/lib/*", "dev.lorastream.launcher.Pipeline"]
