-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "policy" JSONB,
ADD COLUMN     "visibility" TEXT NOT NULL DEFAULT 'public';

-- CreateTable
CREATE TABLE "access_keys" (
    "id" TEXT NOT NULL,
    "instance_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" BYTEA NOT NULL,
    "rpm" INTEGER,
    "max_concurrent" INTEGER,
    "tokens_per_day" BIGINT,
    "models" JSONB,
    "expires_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "access_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_minutes" (
    "instance_id" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "ttft_ms_sum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "ttft_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "usage_minutes_pkey" PRIMARY KEY ("instance_id","key_id","minute")
);

-- CreateIndex
CREATE UNIQUE INDEX "access_keys_hash_key" ON "access_keys"("hash");

-- CreateIndex
CREATE INDEX "access_keys_instance_id_idx" ON "access_keys"("instance_id");

-- CreateIndex
CREATE INDEX "usage_minutes_key_id_minute_idx" ON "usage_minutes"("key_id", "minute");

-- AddForeignKey
ALTER TABLE "access_keys" ADD CONSTRAINT "access_keys_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;
