-- AlterTable
ALTER TABLE "instances" ADD COLUMN     "host_models" JSONB;
