import type { HttpUpload } from '@app/protocol';

/**
 * A multipart request rebuilt for the model server: the text fields as the owner's policy left
 * them (a pinned `model` replaced; an array is a repeated field, e.g. `timestamp_granularities[]`),
 * then the file. Node's FormData encodes it (field names and file name escaped as browsers do).
 */
export async function multipartBody(
  fields: Record<string, unknown>,
  upload: HttpUpload,
): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields))
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      form.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item));
    }
  const bytes = Buffer.from(upload.data, 'base64');
  form.append(upload.field, new Blob([bytes], { type: upload.content_type }), upload.filename || 'audio');
  const encoded = new Response(form);
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type') ?? 'multipart/form-data',
  };
}
