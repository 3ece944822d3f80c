-- AlterTable
ALTER TABLE "usage_minutes" DROP CONSTRAINT "usage_minutes_pkey",
ADD COLUMN     "endpoint" TEXT NOT NULL DEFAULT 'chat',
ADD CONSTRAINT "usage_minutes_pkey" PRIMARY KEY ("instance_id", "key_id", "minute", "endpoint");
