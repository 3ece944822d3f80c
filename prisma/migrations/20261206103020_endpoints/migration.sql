-- AlterTable
ALTER TABLE "access_keys" ADD COLUMN     "endpoints" JSONB;

-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "host_endpoints" JSONB;
