# The one ggzhub binary, for every service (`serve gateway|region|national-table|contracting`,
# `migrate`). Build: docker build -t ggzhub .
#
# Build stage: the toolchain the workspace names (rust-version 1.95), the lock file as it is.
# The dashboard's and GraphiQL's built files are committed (dashboard/dist, dashboard/graphiql/
# dist) and embedded by the gateway at compile time, so no Node.js is needed here.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cargo's registry and target directory are cache mounts (kept between builds, not in the
# image), so the binary is copied out within the same step. The `production` profile is release
# with fat LTO and one codegen unit (Cargo.toml): a longer link, fewer instructions per request.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile production --locked --bin ggzhub \
    && install -D target/production/ggzhub /out/ggzhub

# Runtime: distroless "cc" (glibc and libgcc, which is all the binary links against; CA
# certificates for https:// identity providers, subgraphs and webhooks; no shell), as its
# non-root user 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /out/ggzhub /usr/local/bin/ggzhub
# The gateway's default supergraph (`supergraph.path`, relative to /app). On Kubernetes the
# ConfigMap ggzhub-supergraph replaces it, so that a new one needs no new image.
COPY schema/supergraph.graphql /app/schema/supergraph.graphql
USER 65532:65532
# gateway, region, national-table, contracting; metrics
EXPOSE 4000 4001 4002 4003 9464
ENTRYPOINT ["/usr/local/bin/ggzhub"]
CMD ["--help"]
