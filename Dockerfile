# childgen image: a static (musl) childgen plus git, for the generator job.
#   docker build -t childgen .      (or: buildah bud -t childgen .)
# Tags pushed by .gitlab-ci.yml on every vX.Y.Z tag: X.Y.Z, X.Y, X, latest.
# Multi-arch: build with --platform linux/amd64 or linux/arm64 (the builder
# stage compiles for the platform it runs on).

FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY templates templates
COPY benches benches
RUN cargo build --locked --release \
 && strip target/release/childgen \
 && ./target/release/childgen --version

FROM alpine:3.22
# git: the generator job diffs the runner's clone when the API cannot answer;
# ca-certificates: HTTPS to the GitLab API (rustls reads the system roots).
RUN apk add --no-cache git ca-certificates \
 && adduser -D -u 10001 childgen
COPY --from=build /src/target/release/childgen /usr/local/bin/childgen
USER childgen
# No ENTRYPOINT: GitLab runs the job's script with a shell in this image.
CMD ["childgen", "--help"]
