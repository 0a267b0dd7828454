# sam build (BuildMethod: makefile, CodeUri: the project root) runs `make build-<LogicalId>` in a copy of the
# project: every <Name>Function of infra/template.yaml is functions/<name>/handler.ts, built by the same
# scripts/build.mjs as `npm run build` and `npm run bench`, straight into the function's artifact.
# esbuild is a devDependency: installed here unless the copy already has node_modules.
build-%Function:
	test -d node_modules/esbuild || npm ci --no-audit --no-fund
	node scripts/build.mjs --function "$$(echo '$*' | tr '[:upper:]' '[:lower:]')" --outdir "$(ARTIFACTS_DIR)"
