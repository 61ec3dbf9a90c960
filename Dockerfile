# One image for the API, the workers and the indexer (the command picks the role), plus a small
# anvil image built from the pinned npm package in contracts/ (nothing fetched at run time).

FROM python:3.11-slim AS app
RUN python -m pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY contracts/artifacts ./contracts/artifacts
COPY examples ./examples
RUN uv sync --frozen --no-dev
ENV PATH=/app/.venv/bin:$PATH EMPROPS_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
CMD ["emprops", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM node:20-slim AS anvil
WORKDIR /contracts
COPY contracts/package.json contracts/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && \
    ln -s /contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil /usr/local/bin/anvil
EXPOSE 8545
CMD ["anvil", "--hardfork", "cancun", "--host", "0.0.0.0", "--port", "8545", "--chain-id", "31337"]
