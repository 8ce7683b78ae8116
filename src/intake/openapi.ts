// Replaced by the full OpenAPI 3.1 description (in progress).
export const openApiDocument: Record<string, unknown> = { openapi: '3.1.0', info: { title: 'Amtsbote', version: '1' }, paths: {} };
