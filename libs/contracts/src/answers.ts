/** The Second Me response envelope: clients treat only HTTP 200 with `code == 0` as success. */
export interface Envelope<T> {
  code: number;
  message: string;
  data: T | null;
}

/** The OpenAI error body used by the chat API: `{error: {message, type, param, code}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Where a page of a list sits among all of it. */
export interface Pagination {
  page_no: number;
  page_size: number;
  total: number;
  total_pages: number;
}
