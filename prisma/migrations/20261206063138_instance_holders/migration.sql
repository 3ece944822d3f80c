-- DropIndex
DROP INDEX "instances_deleted_at_registered_at_idx";

-- CreateTable
CREATE TABLE "instance_holders" (
    "instance_id" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "instance_holders_pkey" PRIMARY KEY ("instance_id","node_id")
);

-- CreateIndex
CREATE INDEX "instance_holders_node_id_idx" ON "instance_holders"("node_id");

-- CreateIndex
CREATE INDEX "instances_registered_at_id_idx" ON "instances"("registered_at", "id");

-- AddForeignKey
ALTER TABLE "instance_holders" ADD CONSTRAINT "instance_holders_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;
